/*
 * peak_rss: runs a program and prints its peak resident set size (ru_maxrss, KiB) on stderr.
 *
 * Used by scripts/bench.sh instead of measuring from Python: Linux keeps the larger of the
 * pre-exec and post-exec high-water marks, so a child forked (or vforked) from a 13 MB Python
 * reports at least 13 MB whatever it does. Forked from this small process, the pre-exec mark is
 * well under the library's.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct rusage usage;
    int status;
    pid_t pid;
    if (argc < 2) {
        fputs("usage: peak_rss PROGRAM [ARG...]\n", stderr);
        return 2;
    }
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        execv(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("wait4");
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "peak_rss: %s failed\n", argv[1]);
        return 1;
    }
    fprintf(stderr, "%ld\n", usage.ru_maxrss);
    return 0;
}
