// A header with a type error, for bad-header.pop.
#define DOUBLE(x) ((x) + (x))
void broken() { int s = DOUBLE("no"); }
