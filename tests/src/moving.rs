//! Moving a deployment between logs with `clef-pro export` and `clef-pro import`, as an
//! operator does: export while the service runs under load, import, export again once
//! the writes stop, import that (which resumes after the first), verify, serve.

use crate::history::History;
use crate::load::Load;
use crate::service::{Backend, Service};
use std::path::Path;
use std::time::Duration;

/// Everything a command printed.
pub fn output(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn with_flags<'a>(args: &[&'a str], flags: &[&'a str]) -> Vec<&'a str> {
    [args, flags].concat()
}

/// Runs `clef-pro <sub>` on `s` with `args`; asserts its success and returns its output.
pub async fn succeeds(s: &Service, sub: &str, args: &[&str]) -> String {
    let o = s.run(sub, args).await;
    let text = output(&o);
    assert!(
        o.status.success(),
        "clef-pro {sub} {args:?} failed:\n{text}"
    );
    text
}

/// Runs `clef-pro <sub>` on `s` with `args`; asserts it fails and returns its output.
pub async fn fails(s: &Service, sub: &str, args: &[&str]) -> String {
    let o = s.run(sub, args).await;
    let text = output(&o);
    assert!(
        !o.status.success(),
        "clef-pro {sub} {args:?} succeeded:\n{text}"
    );
    text
}

/// Builds a history on an embedded deployment, exports it under load and again after,
/// imports both into a new deployment on `target` (with `flags` for every command),
/// and checks it: `verify` passes, the API answers as the source did, the source's key
/// and token work, the load's acknowledged reports are there, nothing is mailed again,
/// and a third import is refused. Returns the target, running.
pub async fn move_under_load(target: Backend, flags: &[&str], files: &Path) -> Service {
    let src = Service::start(Backend::Embedded, None).await;
    let c = src.client();
    let history = History::make(&c).await;
    let load = Load::setup(&c, "busy").await;
    let (stop, running) = tokio::sync::watch::channel(false);
    let first = files.join("under-load.export");
    let second = files.join("final.export");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let (first_arg, second_arg) = (path(&first), path(&second));
    let clients = [c.clone()];
    let (ledger, exported) = tokio::join!(load.run(&clients, 2, "move", running, false), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let out = succeeds(&src, "export", &["--out", &first_arg]).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = stop.send(true);
        out
    });
    assert!(exported.contains("exported "), "{exported}");
    assert!(
        !ledger.acked_commits().is_empty(),
        "the load was acknowledged"
    );
    c.settle().await;
    let last = succeeds(&src, "export", &["--out", &second_arg]).await;
    println!("under load: {}\nafter: {}", exported.trim(), last.trim());

    let mut dst = Service::not_started(target, None, flags);
    dst.share_key(&src);
    let out = succeeds(&dst, "import", &with_flags(&["--from", &first_arg], flags)).await;
    assert!(out.contains("imported "), "{out}");
    let out = succeeds(&dst, "import", &with_flags(&["--from", &second_arg], flags)).await;
    assert!(out.contains("resumed after the "), "{out}");
    println!("second import: {}", out.trim());
    let out = fails(&dst, "import", &with_flags(&["--from", &second_arg], flags)).await;
    assert!(out.contains("already holds all"), "{out}");
    let out = succeeds(&dst, "verify", flags).await;
    assert!(out.contains("OK: every projection matches"), "{out}");

    dst.start_again().await;
    let d = dst.client();
    d.settle().await;
    assert_eq!(
        history.answers(&dst.url).await,
        history.answers(&src.url).await,
        "the moved deployment answers as the source did"
    );
    load.check(&d, &ledger).await;
    let mail = dst.data_dir().join("mail");
    assert!(
        crate::files_under(&mail).is_empty(),
        "the moved deployment mailed again: {:?}",
        crate::files_under(&mail)
    );
    assert!(
        !crate::files_under(&src.data_dir().join("mail")).is_empty(),
        "the source sent notifications (else the check above proves nothing)"
    );
    history.still_works(&dst.url).await;
    dst
}
