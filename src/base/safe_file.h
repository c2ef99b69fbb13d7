// Opening the files batchpipe writes without being led astray: it often runs
// as root with its files in shared directories, where another user may plant
// a symbolic link (to /etc/shadow, say) or a file of their own under the name
// batchpipe is about to use.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

namespace batchpipe {

/// Creates a new, empty file beside `path`, named ".NAME.XXXXXXXXXXXX.tmp"
/// (twelve random letters and digits; a leading dot so that a collector
/// reading *.prom skips it), with O_CREAT|O_EXCL|O_NOFOLLOW, so that neither
/// an existing file nor a link planted under that name is ever opened.
/// `mode` is given to open(), so the umask applies. Returns the descriptor
/// (O_WRONLY, close-on-exec) and sets `temp_path`; -1 with errno set if no
/// name could be created (after a few tries on EEXIST).
int create_temp_beside(const std::string& path, mode_t mode, std::string& temp_path);

/// open(2) with O_NOFOLLOW added, but for one exception: a link whose
/// directory only root or we can write (/dev/stderr -> /proc/self/fd/2,
/// or a link of our own in a directory of our own) is followed, since whoever
/// could plant it could write the target too. Any other link fails with ELOOP.
/// Links among the directories of `path` are followed as always.
int open_no_planted_link(const std::string& path, int flags, mode_t mode = 0);

/// Whether `st`'s directory is one only root or `me` can change: owned by
/// one of them and writable by neither group nor others. Pure.
bool directory_is_trusted(const struct stat& dir, uid_t me);

/// Why an existing file that batchpipe writes records to must not be used,
/// or "" if it may: a regular file or FIFO owned by another user than `me`
/// (planted), or one that others may read or write, or its group write (the
/// records would be theirs). Group read is the owner's own choice (chmod 640)
/// and kept. Devices (/dev/null, a terminal) are not judged. Pure.
std::string private_file_problem(const struct stat& st, uid_t me);

/// Why an existing file that steers the run (the checkpoint, its lock) must
/// not be used, or "" if it may: owned by another user than `me`. Pure.
std::string owner_problem(const struct stat& st, uid_t me);

}  // namespace batchpipe
