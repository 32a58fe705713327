//! The public API of `failover-core` is pinned: every public item, with its signature, is
//! listed in `core/public-api.txt`, and this test fails when the crate's API differs from
//! it, so that an API change is a deliberate edit of that file (seen in review), never an
//! accident. Regenerate it with `UPDATE_PUBLIC_API=1 cargo nextest run -p failover-core
//! --test public_api`.
//!
//! The listing is rendered from rustdoc's JSON output (unstable on stable Rust, so it is
//! built with `RUSTC_BOOTSTRAP=1` into a target directory of its own).

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs rustdoc and returns its JSON description of the crate.
fn rustdoc_json() -> Value {
    let target = crate_dir().join("../target/public-api");
    let status = Command::new(env!("CARGO"))
        .args(["rustdoc", "--quiet", "-p", "failover-core", "--lib", "--"])
        .args(["-Z", "unstable-options", "--output-format", "json"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTDOCFLAGS")
        .current_dir(crate_dir())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "rustdoc --output-format json failed");
    let json = std::fs::read_to_string(target.join("doc/failover_core.json")).unwrap();
    serde_json::from_str(&json).expect("rustdoc writes JSON")
}

/// Renders the public items of rustdoc's JSON, one line each.
struct Api<'a> {
    index: &'a serde_json::Map<String, Value>,
    lines: BTreeSet<String>,
}

impl<'a> Api<'a> {
    fn item(&self, id: &Value) -> &'a Value {
        &self.index[&id.to_string()]
    }

    fn walk_module(&mut self, id: &Value, path: &str) {
        let module = self.item(id);
        for child in module["inner"]["module"]["items"].as_array().unwrap() {
            let item = self.item(child);
            if item["visibility"] != "public" {
                continue;
            }
            let name = item["name"].as_str().unwrap_or("");
            let full = format!("{path}::{name}");
            let inner = item["inner"].as_object().unwrap();
            let (kind, body) = inner.iter().next().unwrap();
            let attrs = attrs(item);
            match kind.as_str() {
                "module" => {
                    self.lines.insert(format!("mod {full}"));
                    self.walk_module(child, &full);
                }
                "use" => {
                    let source = body["source"].as_str().unwrap();
                    let alias = body["name"].as_str().unwrap();
                    self.lines
                        .insert(format!("pub use {path}::{alias} = {source}"));
                }
                "struct" => {
                    let generics = generics(&body["generics"]);
                    self.lines.insert(format!("{attrs}struct {full}{generics}"));
                    self.fields(&full, &field_ids(&body["kind"], "plain"));
                    self.impls(&full, &body["impls"]);
                }
                "enum" => {
                    let generics = generics(&body["generics"]);
                    self.lines.insert(format!("{attrs}enum {full}{generics}"));
                    for variant in body["variants"].as_array().unwrap() {
                        let v = self.item(variant);
                        let vname = format!("{full}::{}", v["name"].as_str().unwrap());
                        self.lines.insert(format!("variant {vname}"));
                        let kind = &v["inner"]["variant"]["kind"];
                        self.fields(&vname, &field_ids(kind, "struct"));
                    }
                    self.impls(&full, &body["impls"]);
                }
                "function" => {
                    self.lines.insert(format!("fn {full}{}", function(body)));
                }
                "type_alias" => {
                    let ty = ty(&body["type"]);
                    self.lines.insert(format!("type {full} = {ty}"));
                }
                other => {
                    self.lines.insert(format!("{other} {full}"));
                }
            }
        }
    }

    fn fields(&mut self, owner: &str, fields: &[Value]) {
        for field in fields {
            let f = self.item(field);
            // Fields of enum variants are as public as their enum ("default").
            if f["visibility"] != "public" && f["visibility"] != "default" {
                continue;
            }
            let name = f["name"].as_str().unwrap();
            let ty = ty(&f["inner"]["struct_field"]);
            self.lines.insert(format!("field {owner}.{name}: {ty}"));
        }
    }

    fn impls(&mut self, owner: &str, impls: &Value) {
        for id in impls.as_array().unwrap() {
            let imp = &self.item(id)["inner"]["impl"];
            if imp["is_synthetic"] == true || !imp["blanket_impl"].is_null() {
                continue;
            }
            match &imp["trait"] {
                Value::Null => {
                    for member in imp["items"].as_array().unwrap() {
                        let m = self.item(member);
                        if m["visibility"] != "public" {
                            continue;
                        }
                        let name = m["name"].as_str().unwrap();
                        if let Some(f) = m["inner"].get("function") {
                            self.lines
                                .insert(format!("fn {owner}::{name}{}", function(f)));
                        } else {
                            self.lines.insert(format!("assoc {owner}::{name}"));
                        }
                    }
                }
                t => {
                    let args = args(&t["args"]);
                    let name = t["path"].as_str().unwrap();
                    self.lines.insert(format!("impl {name}{args} for {owner}"));
                }
            }
        }
    }
}

/// The field ids of a struct's or variant's `kind`: named fields sit under `named`
/// (`plain` for structs, `struct` for variants), tuple fields under `tuple`.
fn field_ids(kind: &Value, named: &str) -> Vec<Value> {
    match kind {
        Value::Object(k) if k.contains_key(named) => k[named]["fields"].as_array().unwrap().clone(),
        Value::Object(k) if k.contains_key("tuple") => k["tuple"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| !f.is_null())
            .cloned()
            .collect(),
        _ => Vec::new(),
    }
}

fn attrs(item: &Value) -> String {
    let exhaustive = !item["attrs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "non_exhaustive");
    if exhaustive {
        String::new()
    } else {
        "#[non_exhaustive] ".into()
    }
}

fn function(f: &Value) -> String {
    let sig = &f["sig"];
    let inputs: Vec<String> = sig["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p[0].as_str().unwrap();
            let t = ty(&p[1]);
            match (name, t.as_str()) {
                ("self", "Self") => "self".into(),
                ("self", "&Self") => "&self".into(),
                ("self", "&mut Self") => "&mut self".into(),
                _ => format!("{name}: {t}"),
            }
        })
        .collect();
    let output = match &sig["output"] {
        Value::Null => String::new(),
        t => format!(" -> {}", ty(t)),
    };
    let generics = generics(&f["generics"]);
    format!("{generics}({}){output}", inputs.join(", "))
}

fn generics(g: &Value) -> String {
    let params: Vec<String> = g["params"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"]["type"]["is_synthetic"] != true)
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            match p["kind"].get("type") {
                Some(t) if !t["bounds"].as_array().unwrap().is_empty() => {
                    format!("{name}: {}", bounds(&t["bounds"]))
                }
                _ => name,
            }
        })
        .collect();
    if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    }
}

fn bounds(bounds: &Value) -> String {
    let parts: Vec<String> = bounds
        .as_array()
        .unwrap()
        .iter()
        .map(|b| match b.get("trait_bound") {
            Some(t) => format!(
                "{}{}",
                t["trait"]["path"].as_str().unwrap(),
                args(&t["trait"]["args"])
            ),
            None => b["outlives"].as_str().unwrap_or("?").to_string(),
        })
        .collect();
    parts.join(" + ")
}

fn args(args: &Value) -> String {
    let Some(angle) = args.get("angle_bracketed") else {
        if let Some(p) = args.get("parenthesized") {
            let inputs: Vec<String> = p["inputs"].as_array().unwrap().iter().map(ty).collect();
            let output = match &p["output"] {
                Value::Null => String::new(),
                t => format!(" -> {}", ty(t)),
            };
            return format!("({}){output}", inputs.join(", "));
        }
        return String::new();
    };
    let mut parts: Vec<String> = angle["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a {
            Value::Object(o) if o.contains_key("type") => ty(&o["type"]),
            Value::Object(o) if o.contains_key("lifetime") => {
                o["lifetime"].as_str().unwrap().to_string()
            }
            Value::Object(o) if o.contains_key("const") => "{const}".into(),
            _ => "_".into(),
        })
        .collect();
    for c in angle["constraints"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        match c["binding"].get("equality") {
            Some(eq) => parts.push(format!("{name} = {}", ty(&eq["type"]))),
            None => parts.push(format!("{name}: {}", bounds(&c["binding"]["constraint"]))),
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("<{}>", parts.join(", "))
    }
}

fn ty(t: &Value) -> String {
    let (kind, v) = t.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "resolved_path" => format!("{}{}", v["path"].as_str().unwrap(), args(&v["args"])),
        "generic" | "primitive" => v.as_str().unwrap().to_string(),
        "borrowed_ref" => {
            let lifetime = v["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let mutable = if v["is_mutable"] == true { "mut " } else { "" };
            format!("&{lifetime}{mutable}{}", ty(&v["type"]))
        }
        "tuple" => {
            let parts: Vec<String> = v.as_array().unwrap().iter().map(ty).collect();
            format!("({})", parts.join(", "))
        }
        "slice" => format!("[{}]", ty(v)),
        "array" => format!("[{}; {}]", ty(&v["type"]), v["len"].as_str().unwrap_or("_")),
        "impl_trait" => format!("impl {}", bounds(v)),
        "dyn_trait" => {
            let traits: Vec<String> = v["traits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    format!(
                        "{}{}",
                        t["trait"]["path"].as_str().unwrap(),
                        args(&t["trait"]["args"])
                    )
                })
                .collect();
            format!("dyn {}", traits.join(" + "))
        }
        "qualified_path" => format!(
            "<{} as {}>::{}",
            ty(&v["self_type"]),
            v["trait"]["path"].as_str().unwrap_or("?"),
            v["name"].as_str().unwrap()
        ),
        other => format!("<{other}>"),
    }
}

fn render(doc: &Value) -> String {
    let index = doc["index"].as_object().unwrap();
    let mut api = Api {
        index,
        lines: BTreeSet::new(),
    };
    api.walk_module(&doc["root"], "failover_core");
    let mut out = String::new();
    for line in api.lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn the_public_api_is_the_pinned_one() {
    let rendered = render(&rustdoc_json());
    let pinned = crate_dir().join("public-api.txt");
    if std::env::var_os("UPDATE_PUBLIC_API").is_some() {
        std::fs::write(&pinned, &rendered).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&pinned).unwrap_or_default();
    if rendered != expected {
        let old: BTreeSet<&str> = expected.lines().collect();
        let new: BTreeSet<&str> = rendered.lines().collect();
        let mut diff = String::new();
        for gone in old.difference(&new) {
            diff += &format!("- {gone}\n");
        }
        for added in new.difference(&old) {
            diff += &format!("+ {added}\n");
        }
        panic!(
            "the public API of failover-core differs from core/public-api.txt; if the change \
             is meant, regenerate the file with UPDATE_PUBLIC_API=1 and commit it:\n{diff}"
        );
    }
    // The listing must hold what an embedder uses, or it pins nothing.
    for needed in [
        "struct failover_core::node::Node",
        "fn failover_core::node::Node::tick(&mut self) -> Ready",
        "fn failover_core::ready::Ready::take_persist(&mut self) -> Option<Persistent>",
    ] {
        assert!(rendered.lines().any(|l| l == needed), "missing: {needed}");
    }
}
