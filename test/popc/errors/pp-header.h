// A header for pp-error-in-header.pop: its own error is reported here, in the header.
#define SQUARE(x) ((x) * (x))
#define HEADER_ONE 1
int count = 0;
void g() { count = "a string"; }
