//! PostgreSQL's side of the issues' read model: the executor [`IssueSql`] for
//! [`PgReader`]; the queries themselves are in `store/read/issues.rs`.

use super::PgReader;
use crate::store::read::issues::{Cell, IssueSql, OwnedRow, Param};
use crate::store::{StoreError, search};
use postgres::types::{ToSql, Type};

fn values<'a>(params: &'a [Param<'a>]) -> Vec<Box<dyn ToSql + Sync + 'a>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync + 'a> {
            match *p {
                Param::Int(v) => Box::new(v),
                Param::OptInt(v) => Box::new(v),
                Param::Text(s) => Box::new(s),
            }
        })
        .collect()
}

impl IssueSql for PgReader {
    fn rows(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<OwnedRow>, StoreError> {
        let owned = values(params);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| &**b).collect();
        let rows = self.client.query(sql, &refs)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut cells = Vec::with_capacity(r.len());
            for (i, c) in r.columns().iter().enumerate() {
                let t = c.type_();
                cells.push(if *t == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i)?
                        .map_or(Cell::Null, Cell::Bool)
                } else if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?
                        .map_or(Cell::Null, Cell::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?
                        .map_or(Cell::Null, |v| Cell::Int(v.into()))
                } else {
                    r.try_get::<_, Option<String>>(i)?
                        .map_or(Cell::Null, Cell::Text)
                });
            }
            out.push(OwnedRow(cells));
        }
        Ok(out)
    }

    fn run(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let owned = values(params);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| &**b).collect();
        Ok(self.client.execute(sql, &refs)?)
    }

    fn words_match(&self, n: usize, words: &[String]) -> (String, String) {
        (
            format!(
                "to_tsvector('simple', regexp_replace(i.search_text, '[^[:alnum:]]+', ' ', 'g'))
                 @@ to_tsquery('simple', ${n})"
            ),
            search::tsquery(words),
        )
    }
}
