import SimCore

/// The names the hardware records on every chunk, send and kernel, interned once per trace.
enum TraceNames {
    static let chunk = TraceName("chunk")
    static let send = TraceName("send")
    static let bytes = TraceName("bytes")
    static let source = TraceName("src")
    static let destination = TraceName("dst")
    static let tag = TraceName("tag")
    static let chunks = TraceName("chunks")
    static let path = TraceName("path")
    static let flops = TraceName("flops")
    static let smCount = TraceName("sms")
}
