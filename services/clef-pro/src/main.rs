//! The `clef-pro` binary; everything it does is in the library (`clef_pro::run`).

fn main() -> std::process::ExitCode {
    clef_pro::run()
}
