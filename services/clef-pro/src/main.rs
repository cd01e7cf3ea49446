//! The `clef-pro` binary; everything it does is in the library (`clef_pro::run`).

fn main() -> std::process::ExitCode {
    // Before any thread starts: see `allocator`.
    clef_pro::allocator::limit();
    clef_pro::run()
}
