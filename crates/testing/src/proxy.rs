//! A loopback HTTP proxy that holds every request for a fixed delay before passing it on: a
//! node on 127.0.0.1 made to feel like a remote RPC. HTTP/1.1 with keep-alive, bodies by
//! `Content-Length` or chunked; enough for JSON-RPC from alloy and from Alto. The delay can be
//! changed while it runs; it counts the requests it passed. Dropping it stops it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    runtime::Runtime,
};

/// A latency proxy in front of one HTTP server on loopback.
pub struct LatencyProxy {
    /// Its URL: the upstream's, with the proxy's port.
    pub url: String,
    delay_micros: Arc<AtomicU64>,
    requests: Arc<AtomicU64>,
    runtime: Option<Runtime>,
}

// The URL is local, but no URL goes into a Debug (the house rule).
impl std::fmt::Debug for LatencyProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyProxy")
            .field("delay", &self.delay())
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// `http://host:port/path` split into `host:port` and `/path`.
fn split(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), String::new()),
    }
}

impl LatencyProxy {
    /// Starts a proxy on a free port of 127.0.0.1 in front of `upstream` (an `http://` URL on
    /// loopback), passing requests on without delay until [`Self::set_delay`].
    pub fn start(upstream: &str) -> Self {
        let (target, path) = split(upstream);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the proxy's runtime");
        // Bound here (the caller may be inside another runtime), served on the proxy's own.
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("the proxy binds a loopback port");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let port = listener.local_addr().expect("its address").port();
        let delay_micros = Arc::new(AtomicU64::new(0));
        let requests = Arc::new(AtomicU64::new(0));
        let (delay, count) = (Arc::clone(&delay_micros), Arc::clone(&requests));
        runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(listener) else { return };
            while let Ok((client, _)) = listener.accept().await {
                let (target, delay, count) =
                    (target.clone(), Arc::clone(&delay), Arc::clone(&count));
                tokio::spawn(async move {
                    let _ = serve(client, &target, &delay, &count).await;
                });
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}{path}"),
            delay_micros,
            requests,
            runtime: Some(runtime),
        }
    }

    /// Sets the delay each request waits before it is passed on.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_micros.store(delay.as_micros() as u64, Ordering::Relaxed);
    }

    /// The delay each request waits.
    pub fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_micros.load(Ordering::Relaxed))
    }

    /// Requests passed on so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// One client connection: each request waits, goes upstream on a connection of its own, and
/// its response comes back.
async fn serve(
    client: TcpStream,
    target: &str,
    delay: &AtomicU64,
    count: &AtomicU64,
) -> std::io::Result<()> {
    let (read, mut write) = client.into_split();
    let mut client = BufReader::new(read);
    let mut upstream: Option<(BufReader<tokio::net::tcp::OwnedReadHalf>, _)> = None;
    loop {
        let Some(request) = read_message(&mut client).await? else { return Ok(()) };
        tokio::time::sleep(Duration::from_micros(delay.load(Ordering::Relaxed))).await;
        count.fetch_add(1, Ordering::Relaxed);
        if upstream.is_none() {
            let (r, w) = TcpStream::connect(target).await?.into_split();
            upstream = Some((BufReader::new(r), w));
        }
        let Some((up_read, up_write)) = upstream.as_mut() else { unreachable!("connected") };
        up_write.write_all(&request).await?;
        let Some(response) = read_message(up_read).await? else { return Ok(()) };
        write.write_all(&response).await?;
    }
}

/// One HTTP/1.1 message (head and body) as bytes, `None` at the end of the stream.
async fn read_message(
    reader: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        message.extend_from_slice(line.as_bytes());
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
        if line == "\r\n" {
            break;
        }
    }
    if !chunked {
        let start = message.len();
        message.resize(start + length, 0);
        reader.read_exact(&mut message[start..]).await?;
        return Ok(Some(message));
    }
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).await?;
        message.extend_from_slice(size.as_bytes());
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        // The chunk and its CRLF (after the last, empty chunk: the final CRLF).
        let start = message.len();
        message.resize(start + n + 2, 0);
        reader.read_exact(&mut message[start..]).await?;
        if n == 0 {
            return Ok(Some(message));
        }
    }
}
