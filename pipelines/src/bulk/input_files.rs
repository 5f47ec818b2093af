use std::path::{Path, PathBuf};

use crate::{PipelineError, Result};

/// The Parquet files an input argument names, sorted: a file; a folder (every `*.parquet` below it,
/// skipping hidden and `_`-prefixed file names); or a glob pattern such as `lake/2024-*/*.parquet`.
/// Files under `exclude` (the job's own output folder) are left out.
pub fn resolve_inputs(input: &str, exclude: &Path) -> Result<Vec<PathBuf>> {
    let path = Path::new(input);
    let pattern = if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    } else if path.is_dir() {
        format!("{}/**/*.parquet", glob::Pattern::escape(input.trim_end_matches('/')))
    } else {
        input.to_string()
    };
    let entries = glob::glob(&pattern).map_err(|e| PipelineError::BadGlob { pattern: input.to_string(), reason: e.to_string() })?;
    let exclude = exclude.canonicalize().ok();
    let mut files = Vec::new();
    for entry in entries {
        let file = entry.map_err(|e| PipelineError::Io { path: e.path().to_path_buf(), source: e.into() })?;
        let hidden = file.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.') || n.starts_with('_'));
        let excluded = exclude.as_ref().is_some_and(|out| file.canonicalize().is_ok_and(|f| f.starts_with(out)));
        if file.is_file() && !hidden && !excluded {
            files.push(file);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(PipelineError::NoInputs(input.to_string()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_files_folders_and_globs_without_hidden_or_excluded_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in ["a.parquet", "sub/b.parquet", "sub/.tmp-c.parquet", "_d.parquet", "e.csv", "out/part.parquet"] {
            let p = root.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
        }
        let out = root.join("out");
        let folder = resolve_inputs(root.to_str().unwrap(), &out).unwrap();
        assert_eq!(folder, vec![root.join("a.parquet"), root.join("sub/b.parquet")]);
        let single = resolve_inputs(root.join("a.parquet").to_str().unwrap(), &out).unwrap();
        assert_eq!(single, vec![root.join("a.parquet")]);
        let glob = resolve_inputs(&format!("{}/sub/*.parquet", root.display()), &out).unwrap();
        assert_eq!(glob, vec![root.join("sub/b.parquet")]);
        let none = resolve_inputs(&format!("{}/*.json", root.display()), &out);
        assert!(matches!(none, Err(PipelineError::NoInputs(_))));
    }
}
