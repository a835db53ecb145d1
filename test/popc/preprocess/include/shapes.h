// Found on the include path (-I test/popc/preprocess/include); guarded, so including it twice is harmless.
#ifndef SHAPES_H
#define SHAPES_H
#define SQUARE(x) ((x) * (x))
#define PERIMETER(sides, len) ((sides) * (len))
#endif
