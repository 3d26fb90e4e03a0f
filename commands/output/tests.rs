//! The printer's formats, for a fixed list and a fixed object.

use serde::Serialize;

use super::*;

#[derive(Serialize)]
struct Thing {
    id: String,
    name: String,
    status: String,
    created_at: i64,
}

impl Row for Thing {
    fn headers(cx: &Cells) -> Vec<&'static str> {
        let mut h = vec!["ID", "NAME", "STATUS", "CREATED"];
        if cx.wide {
            h.push("NOTE");
        }
        h
    }
    fn cells(&self, cx: &Cells) -> Vec<String> {
        let mut c = vec![
            cx.id(&self.id),
            self.name.clone(),
            self.status.clone(),
            cx.time(Some(self.created_at)),
        ];
        if cx.wide {
            c.push("a, \"quoted\" note".into());
        }
        c
    }
    fn name(&self) -> String {
        self.id.clone()
    }
}

impl Detail for Thing {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn fields(&self, cx: &Cells) -> Vec<(&'static str, String)> {
        vec![("ID", cx.id(&self.id)), ("Status", self.status.clone())]
    }
}

const NOW: i64 = 1_700_000_000_000;

fn things() -> Vec<Thing> {
    vec![
        Thing {
            id: "01HZXAAAAAAAAAAAAAAAAAAAAA".into(),
            name: "alpha".into(),
            status: "succeeded".into(),
            created_at: NOW - 120_000,
        },
        Thing {
            id: "01HZXBBBBBBBBBBBBBBBBBBBBB".into(),
            name: "beta, with comma".into(),
            status: "failed".into(),
            created_at: NOW - 5_000,
        },
    ]
}

fn style(format: Format) -> Style {
    Style {
        format,
        width: Some(100),
        color: false,
        now: NOW,
    }
}

fn list(format: Format) -> String {
    render_list(&things(), &style(format)).unwrap()
}

#[test]
fn json_is_an_array_of_the_model_objects() {
    let out = list(Format::Json);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = value.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "01HZXAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(items[1]["created_at"], NOW - 5_000);
}

#[test]
fn empty_list_is_an_empty_json_array() {
    let out = render_list::<Thing>(&[], &style(Format::Json)).unwrap();
    assert_eq!(out.trim(), "[]");
}

#[test]
fn yaml_carries_the_same_data() {
    let out = list(Format::Yaml);
    assert!(out.contains("id: 01HZXAAAAAAAAAAAAAAAAAAAAA"), "{out}");
    assert!(out.contains("name: alpha"), "{out}");
    assert!(out.contains("status: failed"), "{out}");
    assert!(out.trim_start().starts_with('-'), "a YAML sequence: {out}");
}

#[test]
fn csv_has_a_header_full_ids_and_quoting() {
    let out = list(Format::Csv);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "id,name,status,created");
    assert_eq!(
        lines[1],
        "01HZXAAAAAAAAAAAAAAAAAAAAA,alpha,succeeded,2023-11-14T22:11:20Z"
    );
    assert_eq!(
        lines[2],
        "01HZXBBBBBBBBBBBBBBBBBBBBB,\"beta, with comma\",failed,2023-11-14T22:13:15Z"
    );
    assert_eq!(lines.len(), 3);
}

#[test]
fn name_prints_bare_ids() {
    assert_eq!(
        list(Format::Name),
        "01HZXAAAAAAAAAAAAAAAAAAAAA\n01HZXBBBBBBBBBBBBBBBBBBBBB\n"
    );
}

#[test]
fn table_shows_short_ids_and_relative_times() {
    let out = list(Format::Table);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("ID"), "{out}");
    assert!(lines[0].contains("CREATED"), "{out}");
    assert!(lines[1].starts_with("01HZXAAAAAAA "), "{out}");
    assert!(lines[1].contains("2m ago"), "{out}");
    assert!(!out.contains("NOTE"), "{out}");
    assert!(!out.contains('\u{1b}'), "no colour when off: {out}");
}

#[test]
fn wide_adds_columns_and_full_ids() {
    let out = list(Format::Wide);
    assert!(out.contains("NOTE"), "{out}");
    assert!(out.contains("01HZXAAAAAAAAAAAAAAAAAAAAA"), "{out}");
}

#[test]
fn tables_fit_the_width() {
    let narrow = Style {
        width: Some(40),
        ..style(Format::Wide)
    };
    let out = render_list(&things(), &narrow).unwrap();
    for line in out.lines() {
        assert!(line.chars().count() <= 40, "too wide: {line:?}\n{out}");
    }
}

#[test]
fn detail_formats() {
    let thing = &things()[0];
    let table = render_detail(thing, &style(Format::Table)).unwrap();
    assert_eq!(table, "ID:     01HZXAAAAAAA\nStatus: succeeded\n");
    let json: serde_json::Value =
        serde_json::from_str(&render_detail(thing, &style(Format::Json)).unwrap()).unwrap();
    assert_eq!(json["name"], "alpha");
    assert_eq!(
        render_detail(thing, &style(Format::Name)).unwrap(),
        "alpha\n"
    );
    assert_eq!(
        render_detail(thing, &style(Format::Csv)).unwrap(),
        "field,value\nid,01HZXAAAAAAAAAAAAAAAAAAAAA\nstatus,succeeded\n"
    );
}

/// A huge cell is cut before it is laid out: wrapping it whole took time quadratic in its
/// length (and its width overflowed 16 bits), with or without a terminal width.
#[test]
fn a_huge_cell_is_cut_and_laid_out_at_once() {
    let mut huge = things();
    huge[0].name = "x".repeat(1_000_000);
    for width in [Some(100), None] {
        let started = std::time::Instant::now();
        let out = render_list(
            &huge,
            &Style {
                width,
                ..style(Format::Table)
            },
        )
        .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(out.contains("… (995904 more bytes)"), "{width:?}");
        assert!(out.len() < 20_000, "{width:?}: {} bytes", out.len());
    }
}
