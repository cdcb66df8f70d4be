#include <cstdio>
int main() { std::puts("depositctl " DEPOSITD_VERSION); return 0; }
