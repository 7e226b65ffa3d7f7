/* Types for symbols' unit tests: compiled with gcc at test time. */
#include <stddef.h>

typedef unsigned char u8;
typedef unsigned int u32;
typedef long long s64;

enum color { RED = -2, GREEN = 0, BLUE = 7 };
enum { ANON_A = 1, ANON_B = 2 } anon_var = ANON_B;

struct list_head {
	struct list_head *next, *prev;
};

struct flags {
	unsigned int a : 1;
	unsigned int b : 3;
	int c : 4;
	u8 d : 2;
	unsigned long e;
	unsigned int f : 5;
};

struct callbacks {
	void (*notify)(struct list_head *, int);
	int (*cmp)(const void *, const void *);
	void *(*alloc)(size_t);
	void (*noargs)(void);
	int (*variadic)(const char *, ...);
};

union value {
	long l;
	double d;
	char bytes[8];
};

struct record {
	int id;
	union {
		u32 word;
		struct {
			unsigned short lo;
			unsigned short hi;
		};
	};
	struct {
		int x, y;
	} point;
	const char *name;
	volatile unsigned long counter;
	char *const fixed;
	int matrix[2][3];
	enum color color;
	struct list_head list;
	union value v;
	struct callbacks *cb;
	int (*table)[4];
	s64 big;
	_Bool ok;
	unsigned int len;
	unsigned char data[];
};

struct record global_record = { .id = 42, .name = "forty-two", .color = BLUE };
volatile unsigned long ticks = 1234;
const char banner[] = "hello, world";
static int counts[5] = { 1, 2, 3, 4, 5 };
struct list_head lists[3];
enum color paint = GREEN;
u8 small = 200;

int add(int a, int b) { return a + b + counts[a & 3]; }
void nothing(void) {}
int printfish(const char *fmt, ...) { return fmt[0]; }
struct flags global_flags = { .a = 1, .b = 5, .c = -3, .d = 2, .e = 9, .f = 17 };
static long helper(struct record *r, union value v) { return r->id + v.l; }

int main(void)
{
	union value v = { .l = 1 };
	lists[0].next = &lists[1];
	return add(1, 2) + (int)helper(&global_record, v) + printfish("x") + small + paint;
}
