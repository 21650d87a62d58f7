//! Plain functions and methods: sync and async, `self` receivers, generics, `impl Trait`.

use super::*;

/// This module's file, to check embedded sources and lines against.
const THIS_FILE: &str = include_str!("functions.rs");

/// The 1-based line of the only line of this file that ends with `marker`.
fn line_of(marker: &str) -> u32 {
    line_in(THIS_FILE, marker)
}

// ---------------------------------------------------------------------------------------
// Sync and async free functions.

#[capture]
fn double(x: u32) -> u32 {
    x * 2
}

#[capture]
async fn triple(x: u32) -> u32 {
    tokio::task::yield_now().await;
    x * 3
}

#[monitored(name = "shapes/sync_handler")]
fn sync_handler(x: u32) -> u32 {
    double(x) + 1
}

#[monitored(level = 2, name = "shapes/async_handler")]
async fn async_handler(x: u32) -> u32 {
    triple(x).await + double(x)
}

/// A borrowed argument and a borrowed result, with elided lifetimes.
#[capture]
async fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

#[test]
fn sync_fns_run_as_written() {
    setup();
    assert_eq!(double(4), 8);
    assert_eq!(sync_handler(4), 9);
    assert_eq!(stored("shapes/sync_handler"), vec![(None, vec![])]);
    assert_eq!(info("sync_handler").kind, FnKind::Monitored { level: None });
    assert_eq!(info("double").kind, FnKind::Capture);
}

#[tokio::test]
async fn async_fns_run_as_written() {
    setup();
    assert_eq!(triple(2).await, 6);
    assert_eq!(async_handler(2).await, 10);
    assert_eq!(first_word("hello world").await, "hello");
    assert_eq!(stored("shapes/async_handler"), vec![(None, vec![])]);
    assert_eq!(
        info("async_handler").kind,
        FnKind::Monitored { level: Some(2) }
    );
    assert_eq!(info("async_handler").endpoint, Some("shapes/async_handler"));
}

// ---------------------------------------------------------------------------------------
// Methods: `&self`, `&mut self`, `self`, associated functions, trait methods.

#[derive(Debug)]
struct Counter {
    count: u32,
}

impl Counter {
    #[capture]
    fn starting_at(count: u32) -> Self {
        Self { count }
    }

    #[capture]
    fn get(&self) -> u32 {
        self.count
    }

    #[capture]
    fn bump(&mut self) -> u32 {
        self.count += 1;
        self.count
    }

    #[capture]
    fn into_count(self) -> u32 {
        self.count
    }

    #[capture]
    async fn peek(&self) -> u32 {
        tokio::task::yield_now().await;
        self.count
    }

    #[monitored(name = "shapes/counter_add")]
    async fn add(&mut self, by: u32) -> Result<u32, ShapeError> {
        self.count = self
            .count
            .checked_add(by)
            .ok_or(ShapeError::TooBig(by as i32))?; // hop:checked-add
        Ok(self.count)
    }

    #[monitored(name = "shapes/counter_finish")]
    fn finish(self) -> String {
        format!("finished at {}", self.count)
    }
}

trait Repository {
    fn name(&self) -> String;
    async fn load(&self, id: u32) -> Option<u32>;
}

struct MemoryRepository;

impl Repository for MemoryRepository {
    #[capture]
    fn name(&self) -> String {
        "memory".to_owned()
    }

    #[capture]
    async fn load(&self, id: u32) -> Option<u32> {
        (id < 10).then_some(id * 100)
    }
}

impl fmt::Display for Counter {
    #[capture]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counter({})", self.count)
    }
}

#[tokio::test]
async fn methods_run_as_written() {
    setup();
    let mut c = Counter::starting_at(1);
    assert_eq!(c.get(), 1);
    assert_eq!(c.bump(), 2);
    assert_eq!(c.peek().await, 2);
    assert_eq!(c.add(3).await, Ok(5));
    assert_eq!(c.add(u32::MAX).await, Err(ShapeError::TooBig(-1)));
    assert_eq!(c.to_string(), "Counter(5)");
    assert_eq!(Counter::starting_at(7).into_count(), 7);
    assert_eq!(c.finish(), "finished at 5");
    assert_eq!(MemoryRepository.name(), "memory");
    assert_eq!(MemoryRepository.load(3).await, Some(300));
    assert_eq!(MemoryRepository.load(30).await, None);

    let add = stored("shapes/counter_add");
    assert_eq!(add.len(), 2);
    assert_eq!(add[0], (None, vec![]));
    assert_eq!(add[1].0, None, "called outside a layer: no status is known");
    assert!(
        add[1]
            .1
            .contains(&("Counter::add".to_owned(), line_of("// hop:checked-add"))),
        "the `?` is on the trace: {:?}",
        add[1].1
    );
    assert_eq!(stored("shapes/counter_finish"), vec![(None, vec![])]);
    for name in [
        "starting_at",
        "get",
        "bump",
        "into_count",
        "peek",
        "add",
        "finish",
        "name",
        "load",
        "fmt",
    ] {
        info(name);
    }
}

// ---------------------------------------------------------------------------------------
// Generic functions: one registration however many instantiations.

#[capture]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    let mut best = *items.first()?;
    for &item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[monitored(name = "shapes/generic_total")]
async fn total<T>(items: Vec<T>) -> u64
where
    T: Into<u64> + Send,
{
    items.into_iter().map(Into::into).sum()
}

#[capture]
fn sum_all(items: impl IntoIterator<Item = u32>) -> u32 {
    items.into_iter().sum()
}

#[tokio::test]
async fn generic_fns_register_once() {
    setup();
    assert_eq!(largest(&[3, 9, 2]), Some(9));
    assert_eq!(largest(&[1.5, -2.0]), Some(1.5));
    assert_eq!(largest::<char>(&[]), None);
    assert_eq!(total(vec![1u8, 2, 3]).await, 6);
    assert_eq!(total(vec![10u32, 20]).await, 30);
    assert_eq!(sum_all(vec![1, 2]), 3);
    assert_eq!(sum_all([4, 5].into_iter().map(|x| x * 2)), 18);
    for name in ["largest", "total", "sum_all"] {
        info(name);
        assert_eq!(raw_registrations(name), 1, "{name}: one registration");
    }
    assert_eq!(stored("shapes/generic_total").len(), 2);
}

// ---------------------------------------------------------------------------------------
// `impl Trait` returns.

#[capture]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[monitored(name = "shapes/impl_display")]
fn greeting(name: &str) -> impl fmt::Display + '_ {
    format!("hello {name}")
}

#[capture]
async fn later(x: u32) -> impl fmt::Debug {
    tokio::task::yield_now().await;
    vec![x; 2]
}

#[monitored(name = "shapes/impl_result")]
async fn maybe_evens(limit: i32) -> Result<impl Iterator<Item = u32>, ShapeError> {
    if limit < 0 {
        return Err(ShapeError::Negative); // hop:impl-negative
    }
    Ok(evens(limit as u32))
}

#[tokio::test]
async fn impl_trait_returns() {
    setup();
    assert_eq!(evens(7).collect::<Vec<_>>(), vec![0, 2, 4, 6]);
    assert_eq!(greeting("ann").to_string(), "hello ann");
    assert_eq!(format!("{:?}", later(4).await), "[4, 4]");
    assert_eq!(
        maybe_evens(3).await.unwrap().collect::<Vec<_>>(),
        vec![0, 2]
    );
    assert!(maybe_evens(-1).await.is_err());
    assert_eq!(stored("shapes/impl_display"), vec![(None, vec![])]);
    let rows = stored("shapes/impl_result");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], (None, vec![]));
    assert_eq!(
        rows[1],
        (
            None,
            vec![("maybe_evens".to_owned(), line_of("// hop:impl-negative"))]
        )
    );
}
