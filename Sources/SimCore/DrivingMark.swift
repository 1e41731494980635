/// What `SimExecutor.beginDriving` replaced, for `endDriving` to put back: the previous driving thread and
/// the simulation the calling thread's global enqueues went to before.
struct DrivingMark {
    let thread: UInt
    let redirect: UnsafeMutableRawPointer?
}
