//! The live stream across nodes and against bad clients: the PostgreSQL listener's fan-out,
//! its reconnect and resync, and a reader that stops reading.

use super::*;
use darkroom_store::testing::append_event;
use darkroom_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn balance(n: i64) -> darkroom_contract::LiveEvent {
    darkroom_contract::LiveEvent::Balance(darkroom_contract::event::Balance { balance: n })
}

/// Commits `n` balance events for `user` in one transaction of `store` (another node when it
/// is not the app's own store: nothing then tells the app in-process).
async fn commit_events(store: &Store, user: &str, n: i64) {
    let mut tx = store.begin_write().await.unwrap();
    for i in 0..n {
        append_event(&mut tx, user, &balance(i)).await.unwrap().expect("member exists");
    }
    tx.commit().await.unwrap();
}

async fn listener_pid(app: &TestApp) -> Option<i64> {
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(pid AS BIGINT) FROM pg_stat_activity WHERE application_name = 'darkroom-listener' AND datname = current_database()",
    )
    .fetch_optional(&app.state.store.pool)
    .await
    .unwrap()
}

/// On PostgreSQL another node's commit reaches this node's stream through LISTEN/NOTIFY, far
/// sooner than the 15 s safety poll; killing the listener's backend (`pg_terminate_backend`)
/// loses nothing: the listener reconnects, wakes every stream, and events committed around
/// the drop arrive once each, in order.
async fn another_nodes_events_arrive_and_a_listener_drop_loses_none(b: Backend) {
    assert_eq!(b, Backend::Postgres);
    let app = spawn_app(b, |c| c.workers = 0).await;
    let c = client();
    app.sign_up(&c, "node@example.com").await;
    let me = user_id(&app, "node@example.com").await;
    let other_node = Store::connect(app.state.store.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = loop {
        if let (true, Some(pid)) = (app.state.store.hub.listening(), listener_pid(&app).await) {
            break pid;
        }
        assert!(Instant::now() < deadline, "the listener connects");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let start = app.state.store.last_event_id(&me).await.unwrap();
    let stream = c.get(format!("{}/events?after={start}", app.base)).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // the stream has read the log and waits
    let sent = Instant::now();
    commit_events(&other_node, &me, 3).await;
    let mut stream = stream;
    let got = read_some(&mut stream, 3, Duration::from_secs(5)).await;
    println!("another node's event reached the stream in {} ms", sent.elapsed().as_millis());
    assert_eq!(got, ((start + 1)..=(start + 3)).collect::<Vec<_>>(), "woken by the notice, not the 15 s poll");

    let reconnects = app.state.store.hub.reconnects();
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend(CAST($1 AS INTEGER))").bind(first).fetch_one(&other_node.pool).await.unwrap();
    assert!(killed);
    // Written while the listener is down or reconnecting: no notice reaches it.
    commit_events(&other_node, &me, 4).await;
    let got = read_some(&mut stream, 4, Duration::from_secs(8)).await;
    assert_eq!(got, ((start + 4)..=(start + 7)).collect::<Vec<_>>(), "the resync after the reconnect finds them");
    assert!(app.state.store.hub.reconnects() > reconnects, "the drop was seen");
    let second = loop {
        match listener_pid(&app).await {
            Some(pid) if pid != first => break pid,
            _ => {}
        }
        assert!(Instant::now() < deadline + Duration::from_secs(10), "the listener is back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(second, first);
    // And notices flow again on the new connection.
    commit_events(&other_node, &me, 2).await;
    let got = read_some(&mut stream, 2, Duration::from_secs(5)).await;
    assert_eq!(got, vec![start + 8, start + 9]);
    assert_eq!(app.state.store.last_event_id(&me).await.unwrap(), start + 9, "nothing else was written");
}

/// Reads `n` events' ids from an open SSE response within `within`.
async fn read_some(resp: &mut reqwest::Response, n: usize, within: Duration) -> Vec<i64> {
    let deadline = Instant::now() + within;
    let (mut buf, mut ids) = (String::new(), Vec::new());
    while ids.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, resp.chunk()).await.unwrap_or_else(|_| panic!("{n} events within {within:?}; got {ids:?}")).unwrap().expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(id) = frame.lines().find_map(|l| l.strip_prefix("id:")).and_then(|v| v.trim().parse().ok()) {
                ids.push(id);
            }
        }
    }
    ids
}

/// A client that opens its stream and then reads nothing is cut (its task, its queue and,
/// through `TCP_USER_TIMEOUT`, its connection), and resuming from the last event it did
/// receive gets every later one: nothing lost, nothing twice.
async fn a_stalled_reader_is_cut_and_resumes_without_loss(b: Backend) {
    let app = spawn_app(b, |c| {
        c.workers = 0;
        c.write_timeout_secs = 1;
    })
    .await;
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = reqwest::Client::builder().cookie_provider(jar.clone()).timeout(Duration::from_secs(60)).build().unwrap();
    app.sign_up(&c, "stall@example.com").await;
    let me = user_id(&app, "stall@example.com").await;
    let base: reqwest::Url = app.base.parse().unwrap();
    let cookie = reqwest::cookie::CookieStore::cookies(&*jar, &base).expect("signed in");
    let start = app.state.store.last_event_id(&me).await.unwrap();

    // A raw connection with a 4 KiB receive buffer that sends its request and stops reading.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut tcp = sock.connect(base.socket_addrs(|| None).unwrap()[0]).await.unwrap();
    let host = base.host_str().unwrap();
    let req = format!("GET /events?after={start} HTTP/1.1\r\nHost: {host}:{}\r\nCookie: {}\r\nAccept: text/event-stream\r\n\r\n", base.port().unwrap(), cookie.to_str().unwrap());
    tcp.write_all(req.as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.store.hub.watched_members() == 0 {
        assert!(Instant::now() < deadline, "the stream opens");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Far more than the socket buffers hold (about 45 bytes an event).
    let total = 20_000;
    commit_events(&app.state.store, &me, total).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.state.store.hub.watched_members() > 0 {
        assert!(Instant::now() < deadline, "the stalled stream is cut within the write timeout");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The connection is gone too: what the client's buffer held, then a reset or the end.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = tcp.write_all(b"x").await; // a closed peer answers this with a reset
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(15), tcp.read(&mut chunk)).await {
            Ok(Ok(0)) => break "end of stream",
            Ok(Ok(n)) => raw.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => break "reset",
            Err(_) => panic!("the server kept a stalled connection open ({} bytes read)", raw.len()),
        }
    };
    let text = String::from_utf8_lossy(&raw);
    let received: Vec<i64> = text.split("\n\n").filter_map(|f| f.lines().find_map(|l| l.strip_prefix("id:")).and_then(|v| v.trim().parse().ok())).collect();
    println!("stalled reader: {} of {total} events reached it before the cut ({ended})", received.len());
    assert!((received.len() as i64) < total, "the stalled reader did not get everything");
    assert!(received.iter().copied().eq((start + 1)..=(start + received.len() as i64)), "what it got is a prefix");
    // Resuming from the last event it saw: the rest, exactly.
    let resume_from = received.last().copied().unwrap_or(start);
    let mut again = c.get(format!("{}/events", app.base)).header("last-event-id", resume_from.to_string()).send().await.unwrap();
    let rest = read_some(&mut again, (start + total - resume_from) as usize, Duration::from_secs(60)).await;
    assert_eq!(rest, ((resume_from + 1)..=(start + total)).collect::<Vec<_>>(), "nothing lost, nothing twice");
}

on_both!(a_stalled_reader_is_cut_and_resumes_without_loss);
mod pg_only {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn another_nodes_events_arrive_and_a_listener_drop_loses_none() {
        super::another_nodes_events_arrive_and_a_listener_drop_loses_none(darkroom_store::Backend::Postgres).await
    }
}
