#include "store/planning.hpp"

namespace depositd::store {

Status plan_for_each_execution(Database& db) {
    if (db.backend() != Backend::postgresql) return {};
    return db.exec("SET LOCAL plan_cache_mode = force_custom_plan");
}

}  // namespace depositd::store
