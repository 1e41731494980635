import Tensors

/// What an op is, for grouping costs (DualPipe splits a chunk into attention, dispatch, MLP, combine).
public enum OpKind: String, Sendable, Hashable, CaseIterable {
    case embedding
    case attention
    case denseFFN
    case gate
    case dispatch
    case routedExperts
    case sharedExperts
    case combine
    case head
}

/// One linear map of an op: `rows` rows of width `input` times an `input` × `output` weight.
public struct LinearShape: Sendable, Hashable {
    /// Rows (M).
    public var rows: Int
    /// Input width (K).
    public var input: Int
    /// Output width (N).
    public var output: Int

    /// A shape.
    public init(rows: Int, input: Int, output: Int) {
        self.rows = rows
        self.input = input
        self.output = output
    }
}

/// FLOPs, parameters and bytes of one op for one micro-batch, split into forward (F), input-gradient (B) and
/// weight-gradient (W) parts.
///
/// FLOPs count matrix products only (2 per multiply-add); element-wise work (norms, softmax, SiLU) is left out.
/// Byte counts use the model's dtype: parameters, the op's input and output activations, and for dispatch and
/// combine the all-to-all payload.
public struct OpCost: Sendable, Hashable {
    /// Which op, e.g. `layers.3.experts`.
    public var name: String
    /// What the op is.
    public var kind: OpKind
    /// Parameters the op owns.
    public var parameterCount: Int
    /// Parameters one token uses (routed experts: top-k of them).
    public var activatedParameterCount: Int
    /// F: the forward pass.
    public var forwardFLOPs: Int
    /// B: gradients with respect to the op inputs.
    public var backwardInputFLOPs: Int
    /// W: gradients with respect to the op weights.
    public var backwardWeightFLOPs: Int
    /// Bytes of the parameters in the model dtype.
    public var parameterBytes: Int
    /// Bytes of the forward input activations.
    public var inputBytes: Int
    /// Bytes of the forward output activations.
    public var outputBytes: Int
    /// All-to-all bytes sent in the forward pass (dispatch in FP8 with scales, combine in BF16).
    public var forwardCommunicationBytes: Int
    /// All-to-all bytes sent in the backward pass (gradients in BF16).
    public var backwardCommunicationBytes: Int
    /// The part of `forwardFLOPs` in the attention core (Q·Kᵀ and P·V): it stays in BF16 when the linear layers
    /// run in FP8 (DeepSeek-V3 §3.3.1); the rest of the FLOPs are linear-layer GEMMs.
    public var forwardAttentionCoreFLOPs = 0
    /// The part of `backwardInputFLOPs` in the attention core (the core has no weights, so no W part).
    public var backwardInputAttentionCoreFLOPs = 0
    /// The op's linear maps in order (their FLOPs are `forwardFLOPs` less the attention core's).
    public var linearShapes: [LinearShape] = []
    /// The part of `backwardInputFLOPs` that recomputes forward work the activation policy did not keep
    /// (`ActivationPolicy.deepseek`: the MLA up-projections); linear GEMMs, not model FLOPs.
    public var backwardInputRecomputeFLOPs = 0

    /// An op cost; unspecified quantities are zero, activated parameters default to all.
    public init(
        name: String, kind: OpKind, parameterCount: Int = 0, activatedParameterCount: Int? = nil, forwardFLOPs: Int = 0,
        backwardInputFLOPs: Int = 0, backwardWeightFLOPs: Int = 0, parameterBytes: Int = 0, inputBytes: Int = 0,
        outputBytes: Int = 0, forwardCommunicationBytes: Int = 0, backwardCommunicationBytes: Int = 0
    ) {
        self.name = name
        self.kind = kind
        self.parameterCount = parameterCount
        self.activatedParameterCount = activatedParameterCount ?? parameterCount
        self.forwardFLOPs = forwardFLOPs
        self.backwardInputFLOPs = backwardInputFLOPs
        self.backwardWeightFLOPs = backwardWeightFLOPs
        self.parameterBytes = parameterBytes
        self.inputBytes = inputBytes
        self.outputBytes = outputBytes
        self.forwardCommunicationBytes = forwardCommunicationBytes
        self.backwardCommunicationBytes = backwardCommunicationBytes
    }

    /// Forward plus both backward parts.
    public var totalFLOPs: Int { forwardFLOPs + backwardInputFLOPs + backwardWeightFLOPs }

    /// HBM bytes a forward pass touches at least once: parameters, inputs and outputs.
    public var forwardMemoryBytes: Int { parameterBytes + inputBytes + outputBytes }
}
