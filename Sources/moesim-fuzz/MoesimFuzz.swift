import Foundation
import Scenario

#if FUZZING
    import CFuzzShim
#endif

/// `moesim-fuzz`: built by `make fuzz` with `-sanitize=fuzzer -DFUZZING`, it is a libFuzzer binary (its
/// arguments are libFuzzer's: corpus folders, `-max_total_time=N`, …); in a normal build it replays the
/// files it is given through the same harness and prints how many lines of each ran.
@main
struct MoesimFuzz {
    static func main() {
        #if FUZZING
            var argc = Swift.CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = Swift.CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    FuzzHarness.run(Array(UnsafeBufferPointer(start: data, count: size)))
                    return 0
                })
        #else
            for path in Swift.CommandLine.arguments.dropFirst() {
                guard case .success(let bytes) = FileAccess.read(path) else {
                    FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                    exit(1)
                }
                print("\(path): \(FuzzHarness.run(bytes)) lines ran")
            }
        #endif
    }
}
