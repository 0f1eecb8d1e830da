//! Aligned text tables (mqadmin's `#Header` columns) and the output of one command.

use serde::Serialize;

/// Column alignment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table: a `#`-prefixed header row and rows, each column as wide as its widest cell,
/// columns two spaces apart, numbers right-aligned.
pub struct Table {
    cols: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(cols: &[(&str, Align)]) -> Table {
        Table { cols: cols.iter().map(|(h, a)| (format!("#{h}"), *a)).collect(), rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let n = self.cols.len();
        let mut width: Vec<usize> = self.cols.iter().map(|(h, _)| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut l = String::new();
            for (i, (_, align)) in self.cols.iter().enumerate() {
                let cell = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width[i].saturating_sub(cell.chars().count());
                if i > 0 {
                    l.push_str("  ");
                }
                match align {
                    Align::Right => {
                        l.push_str(&" ".repeat(pad));
                        l.push_str(cell);
                    }
                    Align::Left => {
                        l.push_str(cell);
                        if i + 1 < n {
                            l.push_str(&" ".repeat(pad));
                        }
                    }
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        let header: Vec<String> = self.cols.iter().map(|(h, _)| h.clone()).collect();
        line(&header, &mut out);
        for r in &self.rows {
            line(r, &mut out);
        }
        out
    }
}

/// What a command prints: text for people, JSON for scripts.
pub struct Out {
    pub text: String,
    pub json: serde_json::Value,
}

impl Out {
    pub fn new(text: String, value: &impl Serialize) -> Out {
        Out { text, json: serde_json::to_value(value).unwrap_or(serde_json::Value::Null) }
    }
}

/// `key: value` lines with the keys padded to one width.
pub fn kv_lines<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let pairs: Vec<(&str, String)> = pairs.into_iter().collect();
    let w = pairs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    pairs.iter().map(|(k, v)| format!("{k:<w$}  {v}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns() {
        let mut t =
            Table::new(&[("Name", Align::Left), ("Count", Align::Right), ("X", Align::Left)]);
        t.row(vec!["a".into(), "1000".into(), "x".into()]);
        t.row(vec!["longer".into(), "2".into(), "".into()]);
        assert_eq!(t.render(), "#Name   #Count  #X\na         1000  x\nlonger       2\n");
    }
}
