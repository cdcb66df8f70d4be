# Generates a .cpp with every ${SCHEMA_DIR}/NNN_name.sql embedded, in order, as
# the function ${FUNCTION} (embedded_migrations: SQLite, schema/; embedded_pg_migrations:
# PostgreSQL, schema/pg/).
file(GLOB files "${SCHEMA_DIR}/[0-9][0-9][0-9]_*.sql")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(n "${f}" NAME_WE)
  string(SUBSTRING "${n}" 0 3 ver)
  string(SUBSTRING "${n}" 4 -1 name)
  math(EXPR v "${ver}")
  file(READ "${f}" sql)
  string(APPEND body "    {${v}, \"${name}\", R\"depositd_sql(${sql})depositd_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from ${SCHEMA_DIR}/*.sql; do not edit.\n#include \"store/database.hpp\"\nnamespace depositd::store {\nnamespace { const Migration kMigrations[] = {\n${body}}; }\nstd::span<const Migration> ${FUNCTION}() { return kMigrations; }\n}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
