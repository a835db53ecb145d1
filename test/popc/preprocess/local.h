// Found next to shapes.pop (a quoted #include looks there first).
#define MAX(a, b) ((a) > (b) ? (a) : (b))
int local_twice(int x) { return 2 * x; }
