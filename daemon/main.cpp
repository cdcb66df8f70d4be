#include <cstdio>
int main() { std::puts("depositd " DEPOSITD_VERSION); return 0; }
