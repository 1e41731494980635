/// What a trace span is, for colouring timelines: derived from the span's name (or a `category` argument).
///
/// Naming convention (docs/ARCHITECTURE.md, "Timelines"): the span's leading word, up to the first space, `.`,
/// `:`, `/`, `(`, `[`, `#`, `=` or `,`, decides, case-insensitively: `F`, `F3`, `forward` → forward; `B…`,
/// `backward` → backward (input gradient); `W…`, `weight` → weight gradient; `F&B`, `FB` → overlapped forward and
/// backward; then the keywords of each case below. A span argument `category=NAME` (a case's raw value) wins.
public enum SpanCategory: String, CaseIterable, Sendable {
    case forward = "F"
    case backward = "B"
    case weight = "W"
    case overlapped = "F&B"
    case attention
    case dispatch
    case mlp = "MLP"
    case combine
    case collective
    case optimizer
    case transfer
    case kernel
    case idle

    /// The legend's text.
    public var label: String {
        switch self {
        case .forward: "F (forward)"
        case .backward: "B (input grad)"
        case .weight: "W (weight grad)"
        case .overlapped: "F&B (overlapped)"
        case .attention: "attention"
        case .dispatch: "dispatch"
        case .mlp: "MLP / experts"
        case .combine: "combine"
        case .collective: "collective"
        case .optimizer: "optimizer"
        case .transfer: "link chunk / push"
        case .kernel: "other kernel"
        case .idle: "idle / bubble"
        }
    }

    /// Fill colour (hex), DualPipe-like: forward warm, backward green, weight blue, overlap purple.
    public var colour: String {
        switch self {
        case .forward: "#f2b447"
        case .backward: "#6db36d"
        case .weight: "#5b8fd6"
        case .overlapped: "#a070c8"
        case .attention: "#f08a3c"
        case .dispatch: "#d9484b"
        case .mlp: "#c9a227"
        case .combine: "#e57fb0"
        case .collective: "#1aa7a7"
        case .optimizer: "#8c6446"
        case .transfer: "#7fa6b8"
        case .kernel: "#9a9aa6"
        case .idle: "#dddddd"
        }
    }

    /// One character for terminal timelines.
    public var letter: Character {
        switch self {
        case .forward: "F"
        case .backward: "B"
        case .weight: "W"
        case .overlapped: "X"
        case .attention: "a"
        case .dispatch: "d"
        case .mlp: "m"
        case .combine: "c"
        case .collective: "C"
        case .optimizer: "o"
        case .transfer: "="
        case .kernel: "k"
        case .idle: "_"
        }
    }

    /// A short CSS class name.
    var cssClass: String { "c\(Self.allCases.firstIndex(of: self) ?? 0)" }

    private static let keywords: [(words: [String], category: SpanCategory)] = [
        (["forward", "fwd"], .forward), (["backward", "bwd"], .backward), (["weight", "wgrad"], .weight),
        (["f&b", "fb", "overlap", "overlapped"], .overlapped),
        (["attention", "attn", "mla"], .attention),
        (["dispatch"], .dispatch),
        (["mlp", "expert", "experts", "ffn", "moe", "linear1", "linear2"], .mlp),
        (["combine"], .combine),
        (
            [
                "collective", "all-reduce", "allreduce", "all-gather", "allgather", "reduce-scatter",
                "reducescatter", "all-to-all", "alltoall", "broadcast",
            ], .collective
        ),
        (["optimizer", "adamw", "adam", "optim"], .optimizer),
        (["chunk", "send", "recv", "receive", "transfer", "push"], .transfer),
        (["idle", "bubble", "wait"], .idle),
    ]

    /// The category of a span called `name`, with an optional `category` argument that overrides it; a name
    /// the convention does not know falls back to each of `fallbacks` in turn (the span's `kind` argument, its
    /// lane, its actor: a span on actor `collectives` takes that colour, a trailing `s` dropped), then `kernel`.
    public static func of(name: String, override: String? = nil, fallbacks: [String] = []) -> SpanCategory {
        if let override, let forced = allCases.first(where: { $0.rawValue.lowercased() == override.lowercased() }) {
            return forced
        }
        for word in [name] + fallbacks {
            var leading = leadingWord(of: word)
            if ofWord(leading) == .kernel, leading.hasSuffix("s"), leading.count > 2 { leading.removeLast() }
            let category = ofWord(leading)
            if category != .kernel { return category }
        }
        return .kernel
    }

    private static func ofWord(_ word: String) -> SpanCategory {
        if let first = word.first, word.dropFirst().allSatisfy(\.isNumber) {
            switch first {
            case "f": return .forward
            case "b": return .backward
            case "w": return .weight
            default: break
            }
        }
        return keywords.first { $0.words.contains(word) }?.category ?? .kernel
    }

    /// The lowercased name up to its first separator.
    static func leadingWord(of name: String) -> String {
        String(name.prefix { !separators.contains($0) }).lowercased()
    }

    /// Built once: a timeline classifies every recorded span (millions in a big run).
    private static let separators: Set<Character> = [" ", ".", ":", "/", "(", "[", "#", "=", ","]  // lookup only, never iterated
}
