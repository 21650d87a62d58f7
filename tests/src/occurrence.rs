//! What is stored of one occurrence of an error: its type, chain and frames, read back
//! from the SQLite file for assertions.

/// What is stored of the latest occurrence of `message`.
#[derive(Debug)]
pub struct Stored {
    /// Its type name.
    pub type_name: String,
    /// Its `source()` chain, outermost first.
    pub chain: Vec<String>,
    /// Function name, line, in-app; innermost first.
    pub frames: Vec<(String, u32, bool)>,
}

/// The latest occurrence of `message` (panics when there is none).
pub fn stored(conn: &rusqlite::Connection, message: &str) -> Stored {
    let (type_name, chain, snapshot): (String, String, i64) = conn
        .query_row(
            "SELECT t.name, o.source_chain, o.snapshot_id FROM exception_occurrence o
             JOIN exception_type t ON t.id = o.type_id
             JOIN exception_message m ON m.id = o.message_id
             WHERE m.message = ?1 ORDER BY o.id DESC LIMIT 1",
            [message],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap_or_else(|e| panic!("no occurrence of {message:?}: {e}"));
    let frames = conn
        .prepare(
            "SELECT l.name, f.line, l.in_app FROM exception_stackline s
             JOIN exception_frame f ON f.id = s.frame_id
             JOIN function_location l ON l.id = f.location_id
             WHERE s.snapshot_id = ?1 ORDER BY s.position",
        )
        .unwrap()
        .query_map([snapshot], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Stored {
        type_name,
        chain: serde_json::from_str(&chain).expect("chain is JSON"),
        frames,
    }
}

impl Stored {
    /// The in-app frames, with their lines.
    pub fn app(&self) -> Vec<(&str, u32)> {
        self.frames
            .iter()
            .filter(|f| f.2)
            .map(|f| (f.0.as_str(), f.1))
            .collect()
    }

    /// Where the library frame named `name` is, if any.
    pub fn library(&self, name: &str) -> Option<usize> {
        self.frames.iter().position(|f| !f.2 && f.0.ends_with(name))
    }
}
