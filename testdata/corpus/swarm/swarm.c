// swarm: the large corpus run's workload (build-large.sh builds it static
// for the x86_64 guest). "swarm NPROC NTHREADS" forks NPROC processes named
// swarmNNNN, each with NTHREADS tasks in all (NTHREADS-1 threads named
// swarmNNNN.K besides its main thread), every one of them holding files
// open (/init, /dev/null and a per-process file in /tmp, so that the
// processes' file tables differ) and mappings of several kinds (anonymous
// memory it has written, a shared mapping of its /tmp file, a private
// read-only mapping of /init), then sleeping in pause(). The parent prints
// "ready N" (N: the tasks it made) on stdout once every child's threads are
// up, and sleeps too.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static int nthreads;
static int self;

static void *thread(void *arg) {
	char name[16];
	snprintf(name, sizeof name, "swarm%04d.%ld", self, (long)arg);
	prctl(PR_SET_NAME, name);
	for (;;)
		pause();
}

static void die(const char *what) {
	perror(what);
	_exit(1);
}

static void child(int i, int ready) {
	char name[16], path[64];
	self = i;
	snprintf(name, sizeof name, "swarm%04d", i);
	prctl(PR_SET_NAME, name);
	snprintf(path, sizeof path, "/tmp/swarm-%04d", i);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 8192) < 0)
		die(path);
	if (open("/init", O_RDONLY) < 0 || open("/dev/null", O_RDWR) < 0)
		die("open");
	char *anon = mmap(NULL, 4 << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int initfd = open("/init", O_RDONLY);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, initfd, 0);
	if (anon == MAP_FAILED || shared == MAP_FAILED || ro == MAP_FAILED)
		die("mmap");
	memset(anon, i & 0xff, 4 << 12);
	snprintf(shared, 8192, "%s\n", name);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (long k = 1; k < nthreads; k++) {
		pthread_t t;
		if (pthread_create(&t, &attr, thread, (void *)k) != 0)
			die("pthread_create");
	}
	if (write(ready, "x", 1) != 1)
		die("write");
	close(ready);
	for (;;)
		pause();
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: swarm NPROC NTHREADS\n");
		return 2;
	}
	int n = atoi(argv[1]);
	nthreads = atoi(argv[2]);
	if (n < 1 || nthreads < 1)
		return 2;
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(p[0]);
			child(i, p[1]);
		}
	}
	close(p[1]);
	char c;
	int got = 0;
	while (got < n && read(p[0], &c, 1) == 1)
		got++;
	printf("ready %d\n", got * nthreads);
	fflush(stdout);
	for (;;)
		pause();
}
