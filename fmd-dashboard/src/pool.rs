//! The dashboard's own threads for database work, so that a locked SQLite file or a hung
//! PostgreSQL server never ties up the host's threads (tokio's blocking pool included).
//!
//! [`THREADS`] threads, each with its own connection (opened when the thread starts,
//! reopened after a failure or when its SQLite file was deleted or replaced), take jobs from one queue of [`QUEUE`] places. A page's
//! handler queues its queries and awaits the answer on a tokio oneshot channel:
//!
//! - a full queue is answered [`PoolError::Busy`] (a 503 page) at once;
//! - each job's statements run at most [`STATEMENT_LIMIT`] (SQLite: lock waits and a
//!   progress handler; PostgreSQL: `statement_timeout`), see [`AnyReader::open_bounded`];
//! - a handler waits at most [`ANSWER_WAIT`] for its answer, queueing included, then
//!   answers 503; a job whose handler stopped waiting is skipped, not run;
//! - a panicking job is caught: its handler gets an error, the thread carries on with a
//!   fresh connection.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use parking_lot::Mutex;

use fmd_runtime::store::{AnyReader, StoreError};

/// Threads (and connections) of one dashboard's pool.
pub const THREADS: usize = 2;
/// Jobs that may wait for a thread; one more is answered 503 at once.
pub const QUEUE: usize = 32;
/// How long one job's statements may wait for locks and run.
pub const STATEMENT_LIMIT: Duration = Duration::from_secs(10);
/// How long a handler waits for its job's answer, time in the queue included.
pub const ANSWER_WAIT: Duration = Duration::from_secs(15);

/// What a busy answer says.
pub const BUSY: &str = "The fmd database answers slowly or is locked; try again in a moment.";

/// Why a job gave no answer.
#[derive(Debug)]
pub enum PoolError {
    /// The database could not be opened or queried (or the job panicked).
    Store(String),
    /// The queue is full, or the answer took longer than [`ANSWER_WAIT`].
    Busy,
}

/// Opens a worker's connection (the dashboard also creates its first admin there).
pub type Opener = dyn Fn() -> Result<AnyReader, StoreError> + Send + Sync;

/// One job: runs on a worker's connection and sends its answer itself.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A worker's connection, opened on first use and reopened after a failure.
pub struct Connection {
    reader: Option<AnyReader>,
    open: Arc<Opener>,
}

impl Connection {
    /// Runs `f` on the connection, its statements bounded by `limit` (`None`: unbounded).
    fn run<T>(
        &mut self,
        limit: Option<Duration>,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError>,
    ) -> Result<T, PoolError> {
        if self.reader.as_ref().is_some_and(|r| r.needs_reopen()) {
            // Its file was deleted or replaced: let go of it before opening the path.
            self.reader = None;
        }
        if self.reader.is_none() {
            let reader = (self.open)().map_err(|e| PoolError::Store(e.to_string()))?;
            self.reader = Some(reader);
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err(PoolError::Store("no connection".into()));
        };
        reader.start_work(limit);
        let result = f(reader);
        reader.start_work(None);
        result.map_err(|e| {
            // A broken connection is reopened next time.
            self.reader = None;
            PoolError::Store(e.to_string())
        })
    }
}

/// The queue of one dashboard's threads. Dropping it lets the threads end.
pub struct Pool {
    sender: SyncSender<Job>,
}

impl Pool {
    /// Starts the threads; each opens its connection with `open` at once.
    pub fn start(open: Arc<Opener>) -> Pool {
        let (sender, receiver) = sync_channel::<Job>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..THREADS {
            let (receiver, open) = (receiver.clone(), open.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("fmd-dashboard-{n}"))
                .spawn(move || work(&receiver, open));
            if let Err(e) = spawned {
                eprintln!("fmd dashboard: cannot start a database thread: {e}");
            }
        }
        Pool { sender }
    }

    /// Queues `f` and awaits its answer (see the module documentation for the limits).
    pub async fn run<T: Send + 'static>(
        &self,
        limit: Option<Duration>,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PoolError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue(Box::new(move |conn: &mut Connection| {
            if !tx.is_closed() {
                let _ = tx.send(conn.run(limit, f));
            }
        }))?;
        match tokio::time::timeout(ANSWER_WAIT, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(PoolError::Store("the query panicked".into())),
            Err(_) => Err(PoolError::Busy),
        }
    }

    /// Like [`Pool::run`], blocking the calling thread for at most `wait` (start-up,
    /// outside any handler).
    pub fn run_blocking<T: Send + 'static>(
        &self,
        wait: Duration,
        f: impl FnOnce(&mut AnyReader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, PoolError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.queue(Box::new(move |conn: &mut Connection| {
            let _ = tx.send(conn.run(Some(STATEMENT_LIMIT), f));
        }))?;
        match rx.recv_timeout(wait) {
            Ok(answer) => answer,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(PoolError::Busy),
            Err(_) => Err(PoolError::Store("the query panicked".into())),
        }
    }

    fn queue(&self, job: Job) -> Result<(), PoolError> {
        self.sender.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => PoolError::Busy,
            TrySendError::Disconnected(_) => PoolError::Store("no database thread".into()),
        })
    }
}

/// One thread: opens its connection, then runs jobs until the pool is dropped.
fn work(receiver: &Mutex<Receiver<Job>>, open: Arc<Opener>) {
    let mut conn = Connection { reader: None, open };
    if let Err(e) = conn.run(Some(STATEMENT_LIMIT), |_| Ok(())) {
        eprintln!("fmd dashboard: cannot open the database yet: {e:?}");
    }
    loop {
        let job = receiver.lock().recv();
        let Ok(job) = job else { return };
        if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
            conn.reader = None;
        }
    }
}
