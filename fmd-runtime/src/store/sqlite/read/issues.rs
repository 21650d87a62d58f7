//! SQLite's side of the issues' read model: the executor [`IssueSql`] for
//! [`SqliteReader`]; the queries themselves are in `store/read/issues.rs`.

use super::SqliteReader;
use crate::store::read::issues::{Cell, IssueSql, OwnedRow, Param};
use crate::store::{StoreError, search};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// `$N` (PostgreSQL's placeholders) as SQLite's `?N`.
fn question_marks(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    for (i, c) in sql.char_indices() {
        if c == '$' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn value<'a>(p: &Param<'a>) -> ToSqlOutput<'a> {
    match *p {
        Param::Int(v) => ToSqlOutput::Owned(Value::Integer(v)),
        Param::OptInt(v) => ToSqlOutput::Owned(v.map_or(Value::Null, Value::Integer)),
        Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
    }
}

impl IssueSql for SqliteReader {
    fn rows(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<OwnedRow>, StoreError> {
        let values: Vec<ToSqlOutput<'_>> = params.iter().map(value).collect();
        let mut stmt = self.conn.prepare_cached(&question_marks(sql))?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Int(v as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(OwnedRow(cells));
        }
        Ok(out)
    }

    fn run(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let values: Vec<ToSqlOutput<'_>> = params.iter().map(value).collect();
        let n = self
            .conn
            .prepare_cached(&question_marks(sql))?
            .execute(rusqlite::params_from_iter(values.iter()))?;
        Ok(n as u64)
    }

    fn words_match(&self, n: usize, words: &[String]) -> (String, String) {
        (
            format!("i.id IN (SELECT rowid FROM issue_fts WHERE issue_fts MATCH ${n})"),
            search::fts5_query(words),
        )
    }
}
