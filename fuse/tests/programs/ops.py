"""Every operation the mount maps, once, with what the program sees.

Run by fuse/tests/fuse_ops.rs on a mount of a SimFs; prints one line per
observation, which the test compares, then checks the SimFs itself.
"""

import ctypes
import errno
import os
import sys

d = sys.argv[1]


def p(*names):
    return os.path.join(d, *names)


def say(*words):
    print(*words, flush=True)


# create, write, fsync; pwrite past the end (zeros), fdatasync, read back
fd = os.open(p("a"), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
os.write(fd, b"hello")
os.fsync(fd)
os.close(fd)
fd = os.open(p("a"), os.O_RDWR)
os.pwrite(fd, b"!", 7)
os.fdatasync(fd)
say("read", os.pread(fd, 100, 0))
os.close(fd)

# O_APPEND writes go to the end; O_EXCL on an existing name fails
fd = os.open(p("log"), os.O_CREAT | os.O_WRONLY | os.O_APPEND)
os.write(fd, b"1")
os.pwrite(fd, b"2", 0)
os.close(fd)
try:
    os.open(p("a"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    say("exclusive create: no error")
except FileExistsError:
    say("exclusive create: EEXIST")

# mkdir, rename into it; an open file keeps working after its unlink
os.mkdir(p("dir"))
os.rename(p("log"), p("dir", "log"))
fd = os.open(p("dir", "log"), os.O_RDWR | os.O_APPEND)
os.unlink(p("dir", "log"))
os.write(fd, b"3")
say("unlinked file size", os.fstat(fd).st_size)
os.close(fd)
say("listing", sorted(os.listdir(p("dir"))))
os.rmdir(p("dir"))

# a hard link is the same inode; truncate by path and through a handle
os.link(p("a"), p("b"))
say("same inode", os.stat(p("a")).st_ino == os.stat(p("b")).st_ino)
os.truncate(p("b"), 9)
fd = os.open(p("a"), os.O_RDWR)
os.ftruncate(fd, 3)
os.close(fd)
say("sizes", os.stat(p("a")).st_size, os.stat(p("b")).st_size)

# fsync of the directory
dfd = os.open(d, os.O_RDONLY)
os.fsync(dfd)
os.close(dfd)

# posix_fallocate grows the file (mode 0)
fd = os.open(p("c"), os.O_CREAT | os.O_RDWR)
os.posix_fallocate(fd, 0, 10)
say("fallocated size", os.fstat(fd).st_size)
os.close(fd)

# renameat2: NOREPLACE onto an existing name, EXCHANGE (no rule: EINVAL);
# a and b are one inode, so only NOREPLACE targets b (the kernel does
# nothing for a rename between two names of one file)
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
for flag, name in ((1, "noreplace"), (2, "exchange")):
    r = libc.renameat2(AT_FDCWD, p("a").encode(), AT_FDCWD, p("c" if flag == 2 else "b").encode(), flag)
    say(name, errno.errorcode[ctypes.get_errno()] if r else "ok")

# what the model has no rule for: refused, or accepted and not kept
try:
    os.symlink("a", p("s"))
    say("symlink: no error")
except OSError as e:
    say("symlink", errno.errorcode[e.errno])
try:
    os.setxattr(p("a"), "user.x", b"1")
    say("setxattr: no error")
except OSError as e:
    say("setxattr", errno.errorcode[e.errno])
os.chmod(p("a"), 0o600)
say("done")
