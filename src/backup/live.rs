//! Whether another process has a store open. SQLite (unix VFS, WAL mode) keeps a shared POSIX
//! lock on the "DMS" byte (offset 128) of `<store>-shm` for as long as a connection is open, so
//! asking the kernel whether a write lock there would conflict (`F_GETLK`) answers the question
//! without disturbing anyone. Locks held by this process do not count (POSIX semantics).

use std::os::fd::AsFd;
use std::path::Path;

/// The byte of the shm file every open connection holds a shared lock on.
const DMS_OFFSET: i64 = 128;

/// The pid of another process that has the store at `path` open, if any.
pub fn holder(path: &Path) -> Option<i32> {
    let mut shm = path.as_os_str().to_os_string();
    shm.push("-shm");
    let f = std::fs::OpenOptions::new().read(true).open(&shm).ok()?;
    let mut lock = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: DMS_OFFSET,
        l_len: 1,
        l_pid: 0,
    };
    nix::fcntl::fcntl(f.as_fd(), nix::fcntl::FcntlArg::F_GETLK(&mut lock)).ok()?;
    (lock.l_type != libc::F_UNLCK as libc::c_short).then_some(lock.l_pid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_store_open_in_another_process_is_live() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("imx.db");
        drop(crate::store::Store::open(&db, true).unwrap());
        assert_eq!(holder(&db), None, "nobody has it open");
        // A sqlite3-like holder in another process: a child that opens the store and waits.
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1]); c.execute('select count(*) from meta').fetchall(); print('ok', flush=True); time.sleep(30)",
                db.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::piped())
            .spawn();
        let Ok(child) = child.as_mut() else {
            return; // no python3 here: nothing to hold the store with
        };
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ok");
        let pid = holder(&db);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(pid, Some(i32::try_from(child.id()).unwrap()));
    }
}
