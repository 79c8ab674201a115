"""channels_tiktok/webhooks/intake/process_id.py: the process's id, read without a system call, is the child's own
after fork."""

import os

from channels_tiktok.webhooks.intake import process_id


def test_the_id_is_this_process_and_a_forked_child_reads_its_own():
    assert process_id.current() == os.getpid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report what it reads, then leave at once (no test teardown in the child)
        os.close(read)
        os.write(write, f"{process_id.current()} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        reported, actual = map(int, pipe.read().split())
    os.waitpid(child, 0)
    assert reported == actual == child
    assert process_id.current() == os.getpid() != child
