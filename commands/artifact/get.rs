//! `imx artifact get RUN PATH|ID [--out FILE]`.

use std::io::Write;
use std::path::PathBuf;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::Digest;

use super::super::context::Context;
use super::super::error::CliError;
use super::size;

/// Download one artifact of a run — by its path (as `imx run artifacts` lists it) or its id —
/// streamed to a file (written beside it first, checked against the artifact's SHA-256, then
/// renamed into place) or to stdout with --out -. Without --out the file is named after the
/// artifact's last path component, in the current folder; an existing file is not replaced
/// unless --force.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  imx run artifacts 01HZX4
  imx artifact get 01HZX4 dist/app-1.4.2.tar.gz
  imx artifact get 01HZX4 dist/app-1.4.2.tar.gz --out /tmp/app.tar.gz
  imx artifact get 01HZX4 dist/app-1.4.2.tar.gz --out - | sha256sum")]
pub struct GetArgs {
    /// Run id (any unique prefix).
    run: String,

    /// The artifact's path in its step's working directory, or its id.
    artifact: String,

    /// Where to write it (`-`: stdout) [default: its file name, in the current folder].
    /// (`-o` is the output format, as everywhere.)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Replace the file if it exists.
    #[arg(long)]
    force: bool,
}

pub async fn run(ctx: &Context, args: GetArgs) -> Result<(), CliError> {
    let plane = ctx.plane()?;
    let who = ctx.principal();
    let (artifact, mut body) = plane
        .download_artifact(&who, &args.run, &args.artifact)
        .await?;
    let to_stdout = args.out.as_deref() == Some(std::path::Path::new("-"));
    let dest = match &args.out {
        Some(p) if !to_stdout => p.clone(),
        _ => PathBuf::from(artifact.path.rsplit('/').next().unwrap_or(&artifact.path)),
    };
    if !to_stdout && dest.exists() && !args.force {
        return Err(
            CliError::usage(format!("{} already exists", dest.display()))
                .with_hint("pass --force to replace it, or --out with another file"),
        );
    }
    let part = {
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(".part");
        dest.with_file_name(name)
    };
    let bar = (ctx.out().live_progress() && artifact.size >= 8 * 1024 * 1024).then(|| {
        let b = ProgressBar::with_draw_target(Some(artifact.size), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_prefix("Downloading");
        b
    });
    let write_err = |what: &std::path::Path, e: std::io::Error| {
        CliError::from(imx::Error::io(format!("writing {}", what.display()), e))
    };
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout().lock(),
        ))
    } else {
        let f = std::fs::File::create(&part).map_err(|e| write_err(&part, e))?;
        Box::new(std::io::BufWriter::with_capacity(1 << 20, f))
    };
    let mut hasher = sha2::Sha256::new();
    let mut n = 0u64;
    let copied: Result<(), CliError> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                CliError::from(imx::Error::io(format!("downloading {}", artifact.path), e))
            })?;
            hasher.update(&chunk);
            n += chunk.len() as u64;
            out.write_all(&chunk).map_err(|e| write_err(&part, e))?;
            if let Some(b) = &bar {
                b.set_position(n);
            }
        }
        out.flush().map_err(|e| write_err(&part, e))
    }
    .await;
    drop(out);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let sha = hex::encode(hasher.finalize());
    let checked = copied.and_then(|()| {
        if n == artifact.size && sha == artifact.sha256 {
            Ok(())
        } else {
            Err(CliError::from(imx::Error::Internal(format!(
                "{} arrived damaged: {n} bytes with SHA-256 {sha}, expected {} bytes with {}",
                artifact.path, artifact.size, artifact.sha256
            ))))
        }
    });
    if to_stdout {
        return checked;
    }
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::rename(&part, &dest).map_err(|e| write_err(&dest, e))?;
    ctx.out().status(format!(
        "Downloaded {} ({}) from step {}; its SHA-256 matches.",
        artifact.path,
        size(artifact.size),
        artifact.step_id
    ));
    ctx.out().line(&dest.display().to_string())
}
