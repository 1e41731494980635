extension TraceRecorder {
    /// The recorder's string index of `name`, interned on first use (the same index `intern(name.text)` gives).
    @inline(__always)
    func index(of name: TraceName) -> Int32 {
        if name.slot < nameSlots.count {
            let index = nameSlots[name.slot]
            if index >= 0 { return index }
        }
        return internSlot(name)
    }

    private func internSlot(_ name: TraceName) -> Int32 {
        let index = intern(name.text)
        if name.slot >= nameSlots.count {
            nameSlots.append(contentsOf: repeatElement(-1, count: name.slot + 1 - nameSlots.count))
        }
        nameSlots[name.slot] = index
        return index
    }

    /// Starts recording a span of `name` on `track`; add its arguments, then call `endRecord()`. Records and
    /// hashes exactly what `span(_:_:start:end:args:)` would with the same name and arguments, without
    /// building an argument list or looking names up by string.
    public func beginSpan(_ track: TraceTrackID, _ name: TraceName, startNs: Int64, endNs: Int64) {
        begin(isSpan: true, track, index(of: name), startNs: startNs, endNs: endNs)
    }

    /// Starts recording an instant of `name` on `track` at `atNs`; add its arguments, then `endRecord()`.
    public func beginInstant(_ track: TraceTrackID, _ name: TraceName, atNs: Int64) {
        begin(isSpan: false, track, index(of: name), startNs: atNs, endNs: atNs)
    }

    /// Starts recording a span whose name is built at run time (a kernel's); see `beginSpan`. Returns the
    /// name's string index, which stays valid for this recorder (`beginSpan(_:interned:startNs:endNs:)`).
    @discardableResult
    public func beginSpan(_ track: TraceTrackID, named name: String, startNs: Int64, endNs: Int64) -> Int32 {
        let index = intern(name)
        begin(isSpan: true, track, index, startNs: startNs, endNs: endNs)
        return index
    }

    /// Starts recording a span named by the index an earlier `beginSpan(_:named:startNs:endNs:)` returned.
    public func beginSpan(_ track: TraceTrackID, interned index: Int32, startNs: Int64, endNs: Int64) {
        begin(isSpan: true, track, index, startNs: startNs, endNs: endNs)
    }

    /// Adds an integer argument to the record being built.
    public func addArgument(_ key: TraceName, _ value: Int64) { add(key, .int(value)) }

    /// Adds a floating-point argument to the record being built.
    public func addArgument(_ key: TraceName, _ value: Double) { add(key, .double(value)) }

    /// Adds a string argument to the record being built; returns the string's index, which stays valid for
    /// this recorder, so a caller that records the same text again can pass it to `addArgument(_:interned:)`.
    @discardableResult
    public func addArgument(_ key: TraceName, _ text: String) -> Int32 {
        let index = intern(text)
        add(key, .string(index))
        return index
    }

    /// Adds a string argument by the index an earlier `addArgument(_:_:)` returned for its text.
    public func addArgument(_ key: TraceName, interned index: Int32) { add(key, .string(index)) }

    /// Finishes the record started by `beginSpan` or `beginInstant`.
    public func endRecord() {
        guard storesEvents else { return }
        pending.argsCount = Int32(storedArgs.count) - pending.argsStart
        records.append(pending)
    }

    private func begin(isSpan: Bool, _ track: TraceTrackID, _ nameIndex: Int32, startNs: Int64, endNs: Int64) {
        hashHeader(isSpan: isSpan, track, nameIndex, startNs: startNs, endNs: endNs)
        pending = Record(
            isSpan: isSpan, track: track.rawValue, name: nameIndex, startNs: startNs, endNs: endNs,
            argsStart: Int32(storedArgs.count), argsCount: 0)
    }

    /// Hashes one argument whose value is already stored (a string value interned before the key, as
    /// `record` does), and keeps it when events are stored.
    @inline(__always)
    private func add(_ key: TraceName, _ stored: StoredValue) {
        let keyIndex = index(of: key)
        hasher.combine(UInt64(keyIndex))
        hashValue(stored)
        if storesEvents { storedArgs.append(StoredArg(key: keyIndex, value: stored)) }
    }
}
