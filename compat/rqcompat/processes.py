"""Process helpers shared by the compat tests and the chaos suite."""
import os


def children_of(parent):
    """Pids whose parent is `parent`, read from /proc (a Python RQ work horse calls setsid, so
    killing its worker's process group does not reach it)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry))
    return found
