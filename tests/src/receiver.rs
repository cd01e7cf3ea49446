//! A real HTTP receiver for webhook and chat-tool notifications: it listens on a
//! dynamic port, records every request (path, headers, body), and answers from a
//! script per path (then with its default answer). `stop` closes the port, so senders see
//! connection errors; `restart` opens the same port again.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One answer the receiver gives.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn status(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_owned(),
            retry_after: None,
        }
    }

    /// 429 with `Retry-After: secs`.
    pub fn too_many(secs: u64) -> Answer {
        Answer {
            status: 429,
            body: "rate limited".into(),
            retry_after: Some(secs),
        }
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Shared {
    scripts: HashMap<String, VecDeque<Answer>>,
    default: Option<Answer>,
    received: Vec<Received>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    server: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl Receiver {
    /// A receiver that answers `default` unless scripted otherwise.
    pub async fn start(default: Answer) -> Receiver {
        let shared = Arc::new(Mutex::new(Shared {
            default: Some(default),
            ..Shared::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut r = Receiver {
            addr,
            shared,
            server: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let shared = self.shared.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let shared = shared.clone();
                async move { answer(&shared, uri.path().to_owned(), headers, body) }
            },
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        self.server = Some((stop, task));
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next requests to `path` get these answers, in order.
    pub fn script(&self, path: &str, answers: impl IntoIterator<Item = Answer>) {
        self.shared
            .lock()
            .expect("lock")
            .scripts
            .entry(path.to_owned())
            .or_default()
            .extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().expect("lock").received.clone()
    }

    /// The requests to `path`.
    pub fn received_at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until `path` has had `n` requests, and returns them.
    pub async fn wait_for(&self, path: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received_at(path);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path} got {} of {n} requests in {timeout:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Closes the port and its open connections: connections are refused until
    /// [`Receiver::restart`].
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.server.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens on the same port again.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("the receiver's port is free again");
        self.serve(listener);
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some((_, task)) = self.server.take() {
            task.abort();
        }
    }
}

fn answer(shared: &Mutex<Shared>, path: String, headers: HeaderMap, body: Bytes) -> Response {
    let mut s = shared.lock().expect("lock");
    let scripted = s.scripts.get_mut(&path).and_then(VecDeque::pop_front);
    s.received.push(Received {
        path,
        headers,
        body,
        at: Instant::now(),
    });
    let a = match scripted {
        Some(a) => a,
        None => s.default.clone().expect("a default answer"),
    };
    let status = StatusCode::from_u16(a.status).expect("status");
    match a.retry_after {
        Some(secs) => (status, [("retry-after", secs.to_string())], a.body).into_response(),
        None => (status, a.body).into_response(),
    }
}
