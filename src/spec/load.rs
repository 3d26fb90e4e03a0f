//! Loading workflow files from disk: one file, or every `*.yaml`/`*.yml`/`*.json` in a directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::WorkflowSpec;
use crate::{Error, Result};

use super::diag::{Diagnostics, Pos, combine};
use super::workflow::{parse_into, parse_str_with_warnings};

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Parse and validate one workflow file.
pub fn load_file(path: &Path) -> Result<WorkflowSpec> {
    let source = read(path)?;
    parse_str_with_warnings(&source, &path.display().to_string()).map(|(spec, _)| spec)
}

/// A file, or every `*.yaml`/`*.yml`/`*.json` file in a directory (sorted by name). Problems in
/// all files are reported together; two files defining the same workflow name is a problem too.
pub fn load_path(path: &Path) -> Result<Vec<(PathBuf, WorkflowSpec)>> {
    load_path_with_warnings(path).map(|(specs, _)| specs)
}

/// Workflow files with their specs, and the warnings about them.
pub type Loaded = (Vec<(PathBuf, WorkflowSpec)>, Vec<String>);

/// [`load_path`], with the warnings about the valid files (`file:line:col: message`).
pub fn load_path_with_warnings(path: &Path) -> Result<Loaded> {
    if !path.is_dir() {
        let source = read(path)?;
        let (spec, warnings) = parse_str_with_warnings(&source, &path.display().to_string())?;
        return Ok((vec![(path.to_path_buf(), spec)], warnings));
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Error::io(format!("cannot read directory {}", path.display()), e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| Error::io(format!("cannot read directory {}", path.display()), e))?;
        let p = entry.path();
        let is_workflow = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        if is_workflow && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::invalid_with_hint(
            format!("{}: no workflow files in this directory", path.display()),
            "workflow files end in .yaml, .yml or .json",
        ));
    }

    let mut all_diags = Vec::new();
    let mut warnings = Vec::new();
    let mut specs = Vec::new();
    let mut names: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let source = read(&file)?;
        let mut diags = Diagnostics::new(&file.display().to_string());
        if let Some(spec) = parse_into(&source, &mut diags) {
            if let Some(first) = names.get(&spec.name) {
                diags.error(
                    Pos::new(1, 1),
                    format!(
                        "workflow {:?} is also defined in {}",
                        spec.name,
                        first.display()
                    ),
                );
            } else {
                names.insert(spec.name.clone(), file.clone());
            }
            specs.push((file, spec));
        }
        warnings.extend(diags.warning_lines());
        all_diags.push(diags);
    }
    match combine(all_diags) {
        Some(err) => Err(err),
        None => Ok((specs, warnings)),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
}
