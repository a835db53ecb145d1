// The interface of counter.pop: what other files may do with a counter (its fields are counter.pop's alone).
counter counter_new(string name, int limit);
bool counter_tick(counter c);
int counter_value(counter c);
string counter_name(counter c);
