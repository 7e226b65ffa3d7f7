// sockets: the busy corpus guest's socket holder (testdata/corpus/build-busy.sh
// builds it static; init.sh starts it). It opens sockets of every family and
// state net -s shows, on known fds, then sleeps forever:
//   fd 3  TCP   listening 0.0.0.0:7001
//   fd 4  TCP   established 127.0.0.1:ephemeral -> 127.0.0.1:7001 (client)
//   fd 5  TCP   established 127.0.0.1:7001 -> client (accepted)
//   fd 6  TCP6  listening [::]:7002 (IPV6_V6ONLY)
//   fd 7  TCP6  established [::1]:ephemeral -> [::1]:7002 (client)
//   fd 8  TCP6  established [::1]:7002 (accepted)
//   fd 9  UDP   bound 0.0.0.0:7003
//   fd 10 UDP   127.0.0.1:ephemeral connected to 127.0.0.1:7003
//   fd 11 UNIX  stream listening /tmp/busy.sock
//   fd 12 UNIX  stream connected (client)
//   fd 13 UNIX  stream connected (accepted)
//   fd 14 UNIX  dgram bound /tmp/busy.dgram
//   fd 15 UNIX  stream socketpair, one end
//   fd 16 UNIX  stream socketpair, other end
// It prints "sockets: ready" once every socket is open, or the failing call.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int must(int v, const char *what)
{
	if (v < 0) {
		perror(what);
		exit(1);
	}
	return v;
}

static int tcp4_listen(int port)
{
	int one = 1, s = must(socket(AF_INET, SOCK_STREAM, 0), "socket tcp");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	must(bind(s, (struct sockaddr *)&a, sizeof a), "bind tcp");
	must(listen(s, 8), "listen tcp");
	return s;
}

static int tcp6_listen(int port)
{
	int one = 1, s = must(socket(AF_INET6, SOCK_STREAM, 0), "socket tcp6");
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT};
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	must(bind(s, (struct sockaddr *)&a, sizeof a), "bind tcp6");
	must(listen(s, 8), "listen tcp6");
	return s;
}

int main(void)
{
	int l4 = tcp4_listen(7001);
	int c4 = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(7001)};
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	must(connect(c4, (struct sockaddr *)&a4, sizeof a4), "connect tcp");
	must(accept(l4, NULL, NULL), "accept tcp");

	int l6 = tcp6_listen(7002);
	int c6 = must(socket(AF_INET6, SOCK_STREAM, 0), "socket");
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(7002), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	must(connect(c6, (struct sockaddr *)&a6, sizeof a6), "connect tcp6");
	must(accept(l6, NULL, NULL), "accept tcp6");

	int u = must(socket(AF_INET, SOCK_DGRAM, 0), "socket udp");
	struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(7003)};
	must(bind(u, (struct sockaddr *)&ua, sizeof ua), "bind udp");
	int uc = must(socket(AF_INET, SOCK_DGRAM, 0), "socket udp");
	ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	must(connect(uc, (struct sockaddr *)&ua, sizeof ua), "connect udp");

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, "/tmp/busy.sock");
	unlink(sa.sun_path);
	int ls = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket unix");
	must(bind(ls, (struct sockaddr *)&sa, sizeof sa), "bind unix");
	must(listen(ls, 8), "listen unix");
	int cs = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket unix");
	must(connect(cs, (struct sockaddr *)&sa, sizeof sa), "connect unix");
	must(accept(ls, NULL, NULL), "accept unix");

	struct sockaddr_un da = {.sun_family = AF_UNIX};
	strcpy(da.sun_path, "/tmp/busy.dgram");
	unlink(da.sun_path);
	int ds = must(socket(AF_UNIX, SOCK_DGRAM, 0), "socket unix dgram");
	must(bind(ds, (struct sockaddr *)&da, sizeof da), "bind unix dgram");

	int sp[2];
	must(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), "socketpair");
	(void)c4, (void)c6, (void)uc, (void)cs, (void)ds;
	printf("sockets: ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
