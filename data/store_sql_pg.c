/*
 * data/store_sql_pg.c - the PostgreSQL 15 + PostGIS 3.3 text of every statement of the store,
 * for the second backend of issue #19. store_sql_pg[] has one entry per enum store_sql, each
 * doing for the C code what its sql_text[] entry in data/store.c does: the same parameters
 * ($n for ?n, cast where PostgreSQL cannot infer a type, so no entry depends on how the backend
 * declares its parameters), the same result columns in the same order and types (booleans as
 * 0/1 integers, times as the stored text), the same rows in the same order. Inserts whose
 * caller reads store_last_id() end in RETURNING id AS reporta_last_id. The pieces after the
 * table replace SQL written inline elsewhere in data/. data/store_sql_pg.md gives the rules
 * and every place where the behaviour differs. Read-only data: any thread may use it.
 */
#include "data/store_int.h"

#include "data/store_sql_pg.h"

/* The schema's (data/migrations/pg/0001) current UTC time as stored: YYYY-MM-DDTHH:MM:SSZ. */
#define NOW_UTC "reporta_now()"
/* The same to the millisecond, where SQLite writes strftime('%Y-%m-%dT%H:%M:%fZ', 'now'). */
#define NOW_UTC_MS "reporta_now_ms()"
/* 0001's reporta_epoch(t), SQLite's unixepoch(t): whole seconds (fractions dropped), and
 * reporta_day(t), SQLite's date(t, '-5 hours'): the Panama day YYYY-MM-DD of a stored time. */
#define EPOCH(t) "reporta_epoch(" t ")"
#define PANAMA_DAY(t) "reporta_day(" t ")"

#define KEY_COLUMNS \
    "id, name, role, coalesce(entity_code, ''), prefix, created_at, coalesce(revoked_at, '')"

#define SERVICE_COLUMNS \
    "code, name_es, name_en, grp, sla_hours, dup_radius_m, coalesce(attributes, ''), active"
#define ENTITY_COLUMNS "code, name, kind, coalesce(area_code, ''), active"
#define RULE_COLUMNS \
    "id, service_code, coalesce(area_code, ''), coalesce(entity_code, ''), to_municipality," \
    " priority, coalesce(sla_hours, 0), coalesce(note, '')"
#define TOW_COLUMNS                                                                           \
    "id, plate, make, colour, vehicle_type, lat, lon, corregimiento_code, distrito_code,"     \
    " provincia_code, address, reason, ticket, ticket_key, entity_code, truck_id, yard_id,"    \
    " report_id, status, created_at, towing_at, at_yard_at, released_at, cancelled_at,"       \
    " updated_at"
#define OPEN_STATUSES "('received', 'assigned', 'in_progress')"
#define REPORT_COLUMNS \
    "r.id, r.case_no, r.service_code, r.status, r.lat, r.lon, coalesce(r.corregimiento_code, '')," \
    " coalesce(r.distrito_code, ''), coalesce(r.provincia_code, ''), coalesce(r.snapped_m, 0)," \
    " r.location_source, coalesce(r.address, ''), coalesce(r.description, '')," \
    " coalesce(r.attributes, ''), coalesce(r.reporter_name, ''), coalesce(r.reporter_email, '')," \
    " coalesce(r.reporter_phone, ''), coalesce(r.device_id, ''), r.entity_code," \
    " coalesce(r.rule_id, 0), coalesce(r.duplicate_of, 0), r.confirmations," \
    " (r.status IN " OPEN_STATUSES " AND r.due_at < " NOW_UTC ")::int, r.created_at, r.updated_at," \
    " r.due_at, coalesce(r.closed_at, ''), r.is_private"
/* The filters of GET /api/v1/reports, each off when its parameter is NULL. */
#define REPORT_FILTERS \
    " ($1::text IS NULL OR strpos($1::text, ',' || r.status || ',') > 0)" \
    " AND ($2::text IS NULL OR r.service_code = $2::text)" \
    " AND ($3::text IS NULL OR r.entity_code = $3::text)" \
    " AND ($4::text IS NULL OR $4::text IN (r.corregimiento_code, r.distrito_code, r.provincia_code))" \
    " AND ($5::text IS NULL OR r.created_at >= $5::text) AND ($6::text IS NULL OR r.created_at < $6::text)" \
    " AND ($7::int = 0 OR (r.status IN " OPEN_STATUSES " AND r.due_at < " NOW_UTC "))" \
    " AND ($8::bigint = 0 OR r.id < $8::bigint)" \
    " AND ($9::text IS NULL OR strpos($9::text, ',' || r.case_no || ',') > 0)"
/* The bounding box $11..$14 (min lon, min lat, max lon, max lat) through the GiST index of
 * reports.geom, then the exact lat/lon as the SQLite text tests them. */
#define REPORT_BBOX \
    " r.geom && ST_MakeEnvelope($11::double precision, $12::double precision," \
    " $13::double precision, $14::double precision, 4326)" \
    " AND r.lon BETWEEN $11::double precision AND $13::double precision" \
    " AND r.lat BETWEEN $12::double precision AND $14::double precision AND"

#define POINT_COLUMNS \
    "r.id, r.case_no, r.service_code, r.status, r.lat, r.lon, r.entity_code," \
    " coalesce(r.corregimiento_code, ''), coalesce(r.distrito_code, ''), coalesce(r.provincia_code, '')," \
    " r.created_at, r.due_at, r.confirmations"

/* a case as the scorecard counts it, computed as the triggers of 0008/0012 compute it */
#define SCORE_COLUMNS \
    "id, " PANAMA_DAY("created_at") ", entity_code, service_code, coalesce(provincia_code, '')," \
    " coalesce(distrito_code, ''), coalesce(corregimiento_code, ''), (closed_at IS NOT NULL)::int," \
    " CASE WHEN closed_at IS NULL THEN -1 ELSE (" EPOCH("closed_at") " - " EPOCH("created_at") \
    ") / 3600 END," \
    " (closed_at IS NOT NULL AND closed_at <= due_at)::int, " EPOCH("due_at") ", confirmations," \
    " coalesce(rating, 0), (followed_up_at IS NOT NULL AND " EPOCH("followed_up_at") " - " \
    EPOCH("created_at") " <= 2592000)::int"

/* clang-format off */
const char *const store_sql_pg[SQL__COUNT] = {
    [SQL_PING]               = "SELECT 1",
    [SQL_VERSION_GET]        = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [SQL_AREAS_COUNT]        = "SELECT level, count(*) FROM areas GROUP BY level",
    [SQL_AREAS_DELETE_LEVEL] = "DELETE FROM areas WHERE level = $1::int",
    [SQL_AREAS_INSERT]       = "INSERT INTO areas (code, level, name, parent_code, source, geom)"
                               " VALUES ($1::text, $2::int, $3::text, $4::text, $5::text,"
                               " ST_Multi(ST_GeomFromWKB($6::bytea, 4326)))",
    [SQL_AREAS_EACH]         = "SELECT level, code, name, parent_code, ST_AsBinary(geom) FROM areas"
                               " ORDER BY level, code",
    [SQL_AREAS_LOCATE]       = "SELECT code FROM areas WHERE level = $1::int"
                               " AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($2::double precision,"
                               " $3::double precision), 4326))"
                               " ORDER BY code LIMIT 1",
    [SQL_LAYERS_GET]         = "SELECT level, origin, coalesce(version, ''), source, imported_at"
                               " FROM area_layers",
    [SQL_LAYER_PUT]          = "INSERT INTO area_layers (level, origin, version, source, imported_at)"
                               " VALUES ($1::int, $2::text, $3::text, $4::text, " NOW_UTC ")"
                               " ON CONFLICT (level) DO UPDATE SET origin = $2::text,"
                               " version = $3::text, source = $4::text, imported_at = " NOW_UTC,
    /* Re-keying after a new default (store_areas_upgrade): pg_temp.area_remap holds the areas
       whose code or name changed, pg_temp.entity_remap the municipalities that follow them
       (store_areas_pg_remap_tables makes both). Each UPDATE reads the old values only, so
       codes that swap are safe. */
    [SQL_REMAP_ADD]          = "INSERT INTO pg_temp.area_remap (old, new, level, old_name, new_name)"
                               " VALUES ($1::text, $2::text, $3::int, $4::text, $5::text)",
    [SQL_ENTITY_REMAP_FILL]  = "INSERT INTO pg_temp.entity_remap (old, new) SELECT e.code, 'MUN-' || r.new"
                               " FROM entities e JOIN pg_temp.area_remap r ON e.code = 'MUN-' || r.old"
                               " WHERE r.level = 1 AND r.old <> r.new AND e.kind = 'municipality'",
    [SQL_REKEY_REPORT_AREAS] = "UPDATE reports SET"
                               " provincia_code = coalesce((SELECT new FROM pg_temp.area_remap"
                               "   WHERE old = provincia_code), provincia_code),"
                               " distrito_code = coalesce((SELECT new FROM pg_temp.area_remap"
                               "   WHERE old = distrito_code), distrito_code),"
                               " corregimiento_code = coalesce((SELECT new FROM pg_temp.area_remap"
                               "   WHERE old = corregimiento_code), corregimiento_code)"
                               " WHERE provincia_code IN (SELECT old FROM pg_temp.area_remap WHERE old <> new)"
                               " OR distrito_code IN (SELECT old FROM pg_temp.area_remap WHERE old <> new)"
                               " OR corregimiento_code IN (SELECT old FROM pg_temp.area_remap WHERE old <> new)",
    [SQL_REKEY_RULE_AREAS]   = "UPDATE routing_rules SET area_code = (SELECT new FROM pg_temp.area_remap"
                               " WHERE old = area_code) WHERE area_code IN"
                               " (SELECT old FROM pg_temp.area_remap WHERE old <> new)",
    [SQL_REKEY_ENTITY_AREAS] = "UPDATE entities SET area_code = (SELECT new FROM pg_temp.area_remap"
                               " WHERE old = area_code) WHERE area_code IN"
                               " (SELECT old FROM pg_temp.area_remap WHERE old <> new)",
    /* a municipality still named as the seed named it follows its distrito's new name */
    [SQL_REKEY_ENTITY_NAMES] = "UPDATE entities SET name = 'Municipio de ' || r.new_name"
                               " FROM pg_temp.area_remap r WHERE entities.kind = 'municipality'"
                               " AND entities.area_code = r.new AND r.level = 1"
                               " AND r.old_name <> r.new_name AND entities.name = 'Municipio de ' || r.old_name",
    /* codes are the primary key, checked row by row: move them aside first */
    [SQL_REKEY_ENTITY_MARK]  = "UPDATE entities SET code = chr(1) || code WHERE code IN"
                               " (SELECT old FROM pg_temp.entity_remap)",
    [SQL_REKEY_ENTITY_CODES] = "UPDATE entities SET code = (SELECT new FROM pg_temp.entity_remap"
                               " WHERE chr(1) || old = entities.code) WHERE substr(code, 1, 1) = chr(1)",
    [SQL_REKEY_REPORT_ENTITY] = "UPDATE reports SET entity_code = (SELECT new FROM pg_temp.entity_remap"
                               " WHERE old = entity_code) WHERE entity_code IN (SELECT old FROM pg_temp.entity_remap)",
    [SQL_REKEY_KEY_ENTITY]   = "UPDATE api_keys SET entity_code = (SELECT new FROM pg_temp.entity_remap"
                               " WHERE old = entity_code) WHERE entity_code IN (SELECT old FROM pg_temp.entity_remap)",
    [SQL_REKEY_RULE_ENTITY]  = "UPDATE routing_rules SET entity_code = (SELECT new FROM pg_temp.entity_remap"
                               " WHERE old = entity_code) WHERE entity_code IN (SELECT old FROM pg_temp.entity_remap)",
    [SQL_REKEY_HISTORY]      = "UPDATE report_history SET"
                               " actor_entity = coalesce((SELECT new FROM pg_temp.entity_remap"
                               "   WHERE old = actor_entity), actor_entity),"
                               " from_value = CASE kind WHEN 'transfer' THEN coalesce((SELECT new FROM"
                               "   pg_temp.entity_remap WHERE old = from_value), from_value) ELSE from_value END,"
                               " to_value = CASE kind WHEN 'transfer' THEN coalesce((SELECT new FROM"
                               "   pg_temp.entity_remap WHERE old = to_value), to_value) ELSE to_value END"
                               " WHERE actor_entity IN (SELECT old FROM pg_temp.entity_remap) OR (kind = 'transfer'"
                               " AND (from_value IN (SELECT old FROM pg_temp.entity_remap)"
                               " OR to_value IN (SELECT old FROM pg_temp.entity_remap)))",
    /* json_object()'s compact text, byte for byte: {"code":"MUN-0801","area_code":"0801"} */
    [SQL_REKEY_AUDIT]        = "INSERT INTO audit_log (actor, actor_role, action, target, before, after)"
                               " SELECT $1::text, $2::text, 'entity.rekey', 'entity:' || e.new,"
                               " '{\"code\":' || to_json(e.old)::text || ',\"area_code\":'"
                               "   || to_json(r.old)::text || '}',"
                               " '{\"code\":' || to_json(e.new)::text || ',\"area_code\":'"
                               "   || to_json(r.new)::text || '}'"
                               " FROM pg_temp.entity_remap e JOIN pg_temp.area_remap r ON e.new = 'MUN-' || r.new"
                               " ORDER BY e.old",
    [SQL_ENTITY_EXISTS]      = "SELECT 1 FROM entities WHERE code = $1::text",
    [SQL_KEY_INSERT]         = "INSERT INTO api_keys (name, role, entity_code, prefix, hash)"
                               " VALUES ($1::text, $2::text, $3::text, $4::text, $5::bytea)"
                               " RETURNING id AS reporta_last_id",
    [SQL_KEY_BY_HASH]        = "SELECT " KEY_COLUMNS " FROM api_keys WHERE hash = $1::bytea",
    [SQL_KEY_GET]            = "SELECT " KEY_COLUMNS " FROM api_keys WHERE id = $1::bigint",
    [SQL_KEY_REVOKE]         = "UPDATE api_keys SET revoked_at = " NOW_UTC
                               " WHERE id = $1::bigint AND revoked_at IS NULL",
    [SQL_KEYS_EACH]          = "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY id",
    [SQL_AUDIT_ADD]          = "INSERT INTO audit_log (actor, actor_role, actor_entity, action, target,"
                               " before, after) VALUES ($1::text, $2::text, $3::text, $4::text,"
                               " $5::text, $6::text, $7::text)",
    [SQL_AUDIT_EACH]         = "SELECT id, at, actor, actor_role, actor_entity, action, target, before,"
                               " after FROM audit_log WHERE ($1::bigint = 0 OR id < $1::bigint)"
                               " AND ($2::text IS NULL OR target = $2::text) ORDER BY id DESC LIMIT $3::int",
    [SQL_SERVICE_GET]        = "SELECT " SERVICE_COLUMNS " FROM services WHERE code = $1::text",
    [SQL_SERVICES_EACH]      = "SELECT " SERVICE_COLUMNS " FROM services ORDER BY grp, code",
    [SQL_SERVICE_PUT]        = "INSERT INTO services (code, name_es, name_en, grp, sla_hours,"
                               " dup_radius_m, attributes, active) VALUES ($1::text, $2::text,"
                               " $3::text, $4::text, $5::int, $6::double precision,"
                               " nullif($7::text, ''), $8::int) ON CONFLICT (code) DO UPDATE SET"
                               " name_es = $2::text, name_en = $3::text, grp = $4::text,"
                               " sla_hours = $5::int, dup_radius_m = $6::double precision,"
                               " attributes = nullif($7::text, ''), active = $8::int",
    [SQL_ENTITY_GET]         = "SELECT " ENTITY_COLUMNS " FROM entities WHERE code = $1::text",
    [SQL_ENTITIES_EACH]      = "SELECT " ENTITY_COLUMNS " FROM entities ORDER BY kind, code",
    [SQL_ENTITY_PUT]         = "INSERT INTO entities (code, name, kind, area_code, active)"
                               " VALUES ($1::text, $2::text, $3::text, nullif($4::text, ''), $5::int)"
                               " ON CONFLICT (code) DO UPDATE SET name = $2::text, kind = $3::text,"
                               " area_code = nullif($4::text, ''), active = $5::int",
    [SQL_RULES_FOR]          = "SELECT " RULE_COLUMNS " FROM routing_rules WHERE service_code = $1::text"
                               " AND (area_code IS NULL OR area_code IN ($2::text, $3::text, $4::text))"
                               " ORDER BY CASE area_code WHEN $2::text THEN 0 WHEN $3::text THEN 1"
                               " WHEN $4::text THEN 2 ELSE 3 END, priority DESC, id",
    [SQL_RULES_EACH]         = "SELECT " RULE_COLUMNS " FROM routing_rules ORDER BY service_code, id",
    [SQL_RULE_GET]           = "SELECT " RULE_COLUMNS " FROM routing_rules WHERE id = $1::bigint",
    [SQL_RULE_INSERT]        = "INSERT INTO routing_rules (service_code, area_code, entity_code,"
                               " to_municipality, priority, sla_hours, note) VALUES ($1::text,"
                               " nullif($2::text, ''), nullif($3::text, ''), $4::int, $5::int,"
                               " nullif($6::int, 0), nullif($7::text, '')) RETURNING id AS reporta_last_id",
    [SQL_RULE_UPDATE]        = "UPDATE routing_rules SET service_code = $1::text,"
                               " area_code = nullif($2::text, ''), entity_code = nullif($3::text, ''),"
                               " to_municipality = $4::int, priority = $5::int,"
                               " sla_hours = nullif($6::int, 0), note = nullif($7::text, '')"
                               " WHERE id = $8::bigint",
    [SQL_RULE_DELETE]        = "DELETE FROM routing_rules WHERE id = $1::bigint",
    [SQL_RULES_NATIONAL]     = "SELECT count(*) FROM routing_rules WHERE service_code = $1::text"
                               " AND area_code IS NULL AND entity_code IS NOT NULL",
    [SQL_IDEM_GET]           = "SELECT i.body_hash, i.report_id, i.token FROM idempotency_keys i"
                               " WHERE i.key = $1::text",
    [SQL_IDEM_PUT]           = "INSERT INTO idempotency_keys (key, body_hash, report_id, token,"
                               " created_at) VALUES ($1::text, $2::bytea, $3::bigint, $4::text, " NOW_UTC ")",
    [SQL_CASE_NEXT]          = "INSERT INTO case_counters (year, last) VALUES ($1::int, 1)"
                               " ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1"
                               " RETURNING last",
    [SQL_REPORT_INSERT]      = "INSERT INTO reports (case_no, token_hash, service_code, status, lat,"
                               " lon, corregimiento_code, distrito_code, provincia_code, snapped_m,"
                               " location_source, address, description, attributes, reporter_name,"
                               " reporter_email, reporter_phone, device_id, entity_code, rule_id,"
                               " created_at, updated_at, due_at, is_private, geom) VALUES ($1::text,"
                               " $2::bytea, $3::text, 'received', $4::double precision,"
                               " $5::double precision, nullif($6::text, ''), nullif($7::text, ''),"
                               " nullif($8::text, ''), nullif($9::double precision, 0), $10::text,"
                               " nullif($11::text, ''), nullif($12::text, ''), nullif($13::text, ''),"
                               " nullif($14::text, ''), nullif($15::text, ''), nullif($16::text, ''),"
                               " nullif($17::text, ''), $18::text, nullif($19::bigint, 0), $20::text,"
                               " $20::text, $21::text, $22::int,"
                               " ST_SetSRID(ST_MakePoint($5::double precision, $4::double precision), 4326))"
                               " RETURNING id AS reporta_last_id",
    [SQL_REPORT_GET]         = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.case_no = $1::text",
    [SQL_REPORT_BY_ID]       = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.id = $1::bigint",
    [SQL_REPORT_BY_TOKEN]    = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.token_hash = $1::bytea",
    [SQL_REPORTS_QUERY]      = "SELECT " REPORT_COLUMNS " FROM reports r WHERE" REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT $10::int",
    [SQL_REPORTS_QUERY_BBOX] = "SELECT " REPORT_COLUMNS " FROM reports r WHERE" REPORT_BBOX
                               REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT $10::int",
    [SQL_REPORTS_NEAR]       = "SELECT r.id, r.case_no, r.status, r.created_at, r.lat, r.lon,"
                               " r.confirmations FROM reports r"
                               " WHERE r.geom && ST_MakeEnvelope($2::double precision,"
                               " $3::double precision, $4::double precision, $5::double precision, 4326)"
                               " AND r.service_code = $1::text AND r.status IN " OPEN_STATUSES
                               " AND r.created_at >= $6::text ORDER BY r.id DESC",
    [SQL_REPORT_SET_STATUS]  = "UPDATE reports SET status = $3::text, updated_at = " NOW_UTC ","
                               " closed_at = CASE WHEN $4::int <> 0 THEN coalesce(closed_at, " NOW_UTC ")"
                               " ELSE NULL END, duplicate_of = nullif($5::bigint, 0)"
                               " WHERE id = $1::bigint AND status = $2::text",
    [SQL_REPORT_SET_ENTITY]  = "UPDATE reports SET entity_code = $2::text, status = $3::text,"
                               " rule_id = NULL, updated_at = " NOW_UTC " WHERE id = $1::bigint",
    [SQL_HISTORY_ADD]        = "INSERT INTO report_history (report_id, at, kind, actor, actor_role,"
                               " actor_entity, from_value, to_value, note) VALUES ($1::bigint,"
                               " " NOW_UTC_MS ", $2::text, $3::text, $4::text, $5::text, $6::text,"
                               " $7::text, $8::text) RETURNING id AS reporta_last_id",
    [SQL_HISTORY_EACH]       = "SELECT id, at, kind, actor, actor_role, actor_entity, from_value,"
                               " to_value, note FROM report_history WHERE report_id = $1::bigint ORDER BY id",
    [SQL_CONFIRM_ADD]        = "INSERT INTO confirmations (report_id, device_id, at)"
                               " VALUES ($1::bigint, $2::text, " NOW_UTC ") ON CONFLICT DO NOTHING",
    [SQL_PHOTO_ADD]          = "INSERT INTO photos (report_id, sha256, width, height,"
                               " thumb_width, thumb_height, kind, added_by) VALUES ($1::bigint,"
                               " $2::text, $3::int, $4::int, $5::int, $6::int, $7::text, $8::text)"
                               " ON CONFLICT DO NOTHING",
    [SQL_PHOTOS_EACH]        = "SELECT sha256, width, height, thumb_width, thumb_height, kind,"
                               " added_by FROM photos WHERE report_id = $1::bigint ORDER BY id",
    [SQL_PHOTO_KNOWN]        = "SELECT 1 FROM photos WHERE sha256 = $1::text LIMIT 1",
    [SQL_POINTS_OPEN]        = "SELECT " POINT_COLUMNS " FROM reports r WHERE r.status IN "
                               OPEN_STATUSES " ORDER BY r.id",
    [SQL_POINT_GET]          = "SELECT " POINT_COLUMNS " FROM reports r WHERE r.id = $1::bigint",
    [SQL_POINTS_QUERY]       = "SELECT " POINT_COLUMNS " FROM reports r WHERE" REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT $10::int",
    [SQL_POINTS_QUERY_BBOX]  = "SELECT " POINT_COLUMNS " FROM reports r WHERE" REPORT_BBOX
                               REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT $10::int",
    [SQL_CONFIRM_COUNT]      = "UPDATE reports SET confirmations = confirmations + 1,"
                               " updated_at = " NOW_UTC " WHERE id = $1::bigint",
    [SQL_YARD_PUT]           = "INSERT INTO yards (code, name, address, lat, lon, geofence, radius_m,"
                               " hours_es, hours_en, phone, tow_fee_cents, daily_fee_cents,"
                               " documents_es, documents_en, active, updated_at) VALUES ($1::text,"
                               " $2::text, $3::text, $4::double precision, $5::double precision,"
                               " $6::text, nullif($7::double precision, 0), $8::text, $9::text,"
                               " nullif($10::text, ''), $11::bigint, $12::bigint, $13::text,"
                               " $14::text, $15::int, " NOW_UTC ") ON CONFLICT (code) DO UPDATE SET"
                               " name = $2::text, address = $3::text, lat = $4::double precision,"
                               " lon = $5::double precision, geofence = $6::text,"
                               " radius_m = nullif($7::double precision, 0), hours_es = $8::text,"
                               " hours_en = $9::text, phone = nullif($10::text, ''),"
                               " tow_fee_cents = $11::bigint, daily_fee_cents = $12::bigint,"
                               " documents_es = $13::text, documents_en = $14::text, active = $15::int,"
                               " updated_at = " NOW_UTC " RETURNING id, updated_at",
    [SQL_YARD_EXISTS]        = "SELECT 1 FROM yards WHERE code = $1::text",
    [SQL_YARDS_EACH]         = "SELECT id, code, name, address, lat, lon, geofence,"
                               " coalesce(radius_m, 0), hours_es, hours_en, phone, tow_fee_cents,"
                               " daily_fee_cents, documents_es, documents_en, active, updated_at"
                               " FROM yards ORDER BY code",
    [SQL_YARD_USED]          = "SELECT 1 FROM tows t JOIN yards y ON t.yard_id = y.id"
                               " WHERE y.code = $1::text LIMIT 1",
    [SQL_YARD_DELETE]        = "DELETE FROM yards WHERE code = $1::text",
    [SQL_TRUCK_PUT]          = "INSERT INTO trucks (code, entity_code, plate, active, updated_at)"
                               " VALUES ($1::text, $2::text, $3::text, $4::int, " NOW_UTC ")"
                               " ON CONFLICT (code) DO UPDATE SET entity_code = $2::text,"
                               " plate = $3::text, active = $4::int, updated_at = " NOW_UTC
                               " RETURNING id, updated_at",
    [SQL_TRUCK_EXISTS]       = "SELECT 1 FROM trucks WHERE code = $1::text",
    [SQL_TRUCKS_EACH]        = "SELECT id, code, entity_code, plate, active, updated_at FROM trucks"
                               " ORDER BY code",
    [SQL_TRUCK_USED]         = "SELECT 1 FROM trucks k WHERE k.code = $1::text AND (EXISTS (SELECT 1"
                               " FROM tows t WHERE t.truck_id = k.id) OR EXISTS (SELECT 1 FROM"
                               " truck_positions p WHERE p.truck_id = k.id))",
    [SQL_TRUCK_DELETE]       = "DELETE FROM trucks WHERE code = $1::text",
    [SQL_POSITION_ADD]       = "INSERT INTO truck_positions (truck_id, at, lat, lon, speed_kmh,"
                               " heading, received_at) VALUES ($1::bigint, $2::text,"
                               " $3::double precision, $4::double precision, $5::double precision,"
                               " $6::double precision, " NOW_UTC ") ON CONFLICT (truck_id, at) DO NOTHING",
    [SQL_POSITIONS_EACH]     = "SELECT truck_id, at, lat, lon, speed_kmh, heading FROM"
                               " truck_positions WHERE truck_id = $1::bigint AND at >= coalesce($2::text, '')"
                               " ORDER BY at LIMIT $3::int",
    [SQL_POSITIONS_LATEST]   = "SELECT p.truck_id, p.at, p.lat, p.lon, p.speed_kmh, p.heading"
                               " FROM trucks k JOIN truck_positions p ON p.truck_id = k.id"
                               " AND p.at = (SELECT max(at) FROM truck_positions q"
                               " WHERE q.truck_id = k.id)",
    [SQL_TOW_INSERT]         = "INSERT INTO tows (plate, make, colour, vehicle_type, lat, lon,"
                               " corregimiento_code, distrito_code, provincia_code, address, reason,"
                               " ticket, ticket_key, entity_code, truck_id, yard_id, report_id,"
                               " status, created_at, towing_at, updated_at) VALUES ($1::text,"
                               " nullif($2::text, ''), nullif($3::text, ''), nullif($4::text, ''),"
                               " $5::double precision, $6::double precision, nullif($7::text, ''),"
                               " nullif($8::text, ''), nullif($9::text, ''), nullif($10::text, ''),"
                               " $11::text, $12::text, $13::bytea, $14::text, $15::bigint, $16::bigint,"
                               " nullif($17::bigint, 0), $18::text, $19::text, nullif($20::text, ''),"
                               " $19::text) RETURNING id AS reporta_last_id",
    [SQL_TOW_GET]            = "SELECT " TOW_COLUMNS " FROM tows WHERE id = $1::bigint",
    [SQL_TOW_SET_STATUS]     = "UPDATE tows SET status = $3::text, updated_at = $4::text,"
                               " towing_at = CASE $3::text WHEN 'towing' THEN $4::text ELSE towing_at END,"
                               " at_yard_at = CASE $3::text WHEN 'at_yard' THEN $4::text ELSE at_yard_at END,"
                               " released_at = CASE $3::text WHEN 'released' THEN $4::text ELSE released_at END,"
                               " cancelled_at = CASE $3::text WHEN 'cancelled' THEN $4::text ELSE cancelled_at END"
                               " WHERE id = $1::bigint AND status = $2::text",
    [SQL_TOWS_ACTIVE]        = "SELECT " TOW_COLUMNS " FROM tows WHERE status IN ('requested',"
                               " 'towing', 'at_yard') ORDER BY id",
    [SQL_TOWS_QUERY]         = "SELECT " TOW_COLUMNS " FROM tows"
                               " WHERE ($1::text IS NULL OR entity_code = $1::text)"
                               " AND ($2::text IS NULL OR plate = $2::text)"
                               " AND ($3::text IS NULL OR status = $3::text)"
                               " AND ($4::bigint = 0 OR id < $4::bigint) ORDER BY id DESC LIMIT $5::int",
    [SQL_TOW_HISTORY_ADD]    = "INSERT INTO tow_history (tow_id, at, from_status, to_status, actor,"
                               " actor_role, note) VALUES ($1::bigint, $2::text, $3::text, $4::text,"
                               " $5::text, $6::text, nullif($7::text, ''))",
    [SQL_TOW_HISTORY_EACH]   = "SELECT id, at, from_status, to_status, actor, actor_role, note"
                               " FROM tow_history WHERE tow_id = $1::bigint ORDER BY id",
    /* (created_at, id) keyset: a row comparison, which a btree on (created_at, id) serves in
     * order, no sort, however many cases the range holds. */
    [SQL_EXPORT_PAGE]        = "SELECT r.id, r.case_no, r.service_code, coalesce(s.name_es, ''),"
                               " r.entity_code, coalesce(e.name, ''), r.status, r.created_at,"
                               " coalesce(r.closed_at, ''), CASE WHEN r.closed_at IS NULL THEN -1"
                               " ELSE (r.closed_at <= r.due_at)::int END, r.due_at,"
                               " coalesce(r.corregimiento_code, ''), coalesce(c.name, ''),"
                               " coalesce(r.distrito_code, ''), coalesce(d.name, ''),"
                               " coalesce(r.provincia_code, ''), coalesce(p.name, ''), r.lat, r.lon,"
                               " CASE WHEN r.is_private <> 0 THEN '' ELSE coalesce(r.description, '') END"
                               " FROM reports r LEFT JOIN services s ON s.code = r.service_code"
                               " LEFT JOIN entities e ON e.code = r.entity_code"
                               " LEFT JOIN areas c ON c.code = r.corregimiento_code"
                               " LEFT JOIN areas d ON d.code = r.distrito_code"
                               " LEFT JOIN areas p ON p.code = r.provincia_code"
                               " WHERE (r.created_at, r.id) > ($1::text, $2::bigint) AND r.created_at < $3::text"
                               " ORDER BY r.created_at, r.id LIMIT $4::int",
    [SQL_HOOKS_FLAG_OFF]     = "UPDATE webhooks SET active = 0 WHERE source = 'flag'",
    [SQL_HOOK_FLAG_PUT]      = "INSERT INTO webhooks (url, secret, trusted, active, source)"
                               " VALUES ($1::text, $2::text, $3::int, 1, 'flag') ON CONFLICT (url) DO UPDATE SET"
                               " secret = excluded.secret, trusted = excluded.trusted, active = 1,"
                               " source = 'flag'",
    [SQL_HOOKS_EACH]         = "SELECT w.id, w.url, w.secret, w.trusted, w.active, w.source,"
                               " w.delivered, w.failures, coalesce(w.last_error, ''),"
                               " (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id)"
                               " FROM webhooks w WHERE $1::int = 0 OR w.active = 1 ORDER BY w.id",
    /* the head of each stream that is due: one event per case or tow at a time, in order;
     * only the due rows are read (PostgreSQL has no INDEXED BY: the planner picks
     * deliveries_due and deliveries_stream from the statistics) */
    [SQL_DELIVERIES_DUE]     = "SELECT d.event_id, e.uid, e.type, e.stream, coalesce(e.report_id, 0),"
                               " coalesce(e.tow_id, 0), e.payload, d.attempts FROM deliveries d"
                               " JOIN events e ON e.id = d.event_id"
                               " WHERE d.webhook_id = $1::bigint AND d.next_at <= $2::bigint AND NOT EXISTS"
                               " (SELECT 1 FROM deliveries h"
                               " WHERE h.webhook_id = $1::bigint AND h.stream = d.stream"
                               " AND h.event_id < d.event_id) ORDER BY d.event_id LIMIT $3::int"
                               " FOR UPDATE OF d SKIP LOCKED", /* see store_deliveries_due */
    [SQL_DELIVERY_DELETE]    = "DELETE FROM deliveries WHERE webhook_id = $1::bigint AND event_id = $2::bigint",
    [SQL_HOOK_DELIVERED]     = "UPDATE webhooks SET delivered = delivered + 1 WHERE id = $1::bigint",
    [SQL_DELIVERY_RETRY]     = "UPDATE deliveries SET attempts = attempts + 1, last_error = $3::text"
                               " WHERE webhook_id = $1::bigint AND event_id = $2::bigint",
    [SQL_STREAM_HOLD]        = "UPDATE deliveries SET next_at = greatest(next_at, $3::bigint)"
                               " WHERE webhook_id = $1::bigint AND stream = $2::text",
    [SQL_HOOK_FAILED]        = "UPDATE webhooks SET failures = failures + 1, last_error = $2::text"
                               " WHERE id = $1::bigint",
    [SQL_CONTACT_REPORT]     = "SELECT reporter_name, reporter_email, reporter_phone FROM reports"
                               " WHERE id = $1::bigint",
    [SQL_CONTACT_TOW]        = "SELECT plate FROM tows WHERE id = $1::bigint",
    /* the Open311 updates feed: changes after creation, not what Open311 clients posted
     * (they have those); times compared to the second whatever their precision. ILIKE:
     * SQLite's LIKE ignores ASCII case. */
    [SQL_UPDATES_EACH]       = "SELECT e.uid, r.case_no, e.type, e.at,"
                               " coalesce(e.payload::jsonb #>> '{case,status}', r.status),"
                               " coalesce(h.kind, ''), coalesce(h.from_value, ''),"
                               " coalesce(h.to_value, ''), coalesce(h.note, ''),"
                               " coalesce(e.payload::jsonb #>> '{photo,url}', '')"
                               " FROM events e JOIN reports r ON r.id = e.report_id"
                               " LEFT JOIN report_history h ON h.id = e.history_id"
                               " WHERE e.at >= $5::text AND e.at < $4::text"
                               " AND to_char(e.at::timestamptz AT TIME ZONE 'UTC',"
                               " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') BETWEEN $1::text AND $2::text"
                               " AND e.type IN ('case.status', 'case.transfer', 'case.photo',"
                               " 'case.update', 'case.tow')"
                               " AND (h.actor IS NULL OR h.actor NOT ILIKE 'open311:%')"
                               " ORDER BY e.id LIMIT $3::int",
    [SQL_UPDATE_FIND]        = "SELECT e.uid FROM report_history h JOIN events e ON e.history_id = h.id"
                               " WHERE h.report_id = $1::bigint AND h.kind = 'update' AND h.actor = $2::text",
    [SQL_EVENT_OF_HISTORY]   = "SELECT uid FROM events WHERE history_id = $1::bigint",
    [SQL_RATING_ADD]         = "INSERT INTO ratings (report_id, score, comment, reopened, at)"
                               " VALUES ($1::bigint, $2::int, nullif($3::text, ''), $4::int, " NOW_UTC ")"
                               " ON CONFLICT (report_id) DO NOTHING",
    [SQL_REPORT_SET_RATING]  = "UPDATE reports SET rating = $2::int WHERE id = $1::bigint",
    /* open 30 days with no change, once per quiet spell */
    [SQL_FOLLOWUPS_DUE]      = "INSERT INTO followups (report_id, kind, entity_code, raised_at)"
                               " SELECT r.id, 'followup_due', r.entity_code, $1::text FROM reports r"
                               " WHERE r.status IN " OPEN_STATUSES " AND r.updated_at <= $2::text"
                               " AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.report_id = r.id"
                               " AND f.kind = 'followup_due' AND f.raised_at >= r.updated_at)"
                               " LIMIT $3::int",
    /* closed in the rating window, not rated, not asked since it closed */
    [SQL_FOLLOWUPS_SATISFACTION] = "INSERT INTO followups (report_id, kind, entity_code, raised_at)"
                               " SELECT r.id, 'satisfaction_requested', r.entity_code, $1::text"
                               " FROM reports r WHERE r.closed_at IS NOT NULL AND r.closed_at >= $2::text"
                               " AND r.closed_at <= $1::text AND r.status IN ('resolved', 'closed')"
                               " AND r.rating IS NULL AND NOT EXISTS (SELECT 1 FROM followups f"
                               " WHERE f.report_id = r.id AND f.kind = 'satisfaction_requested'"
                               " AND f.raised_at >= r.closed_at) LIMIT $3::int",
    [SQL_FOLLOWUPS_OPEN]     = "SELECT f.id, f.kind, f.raised_at, r.case_no, r.service_code, r.status,"
                               " r.entity_code, r.created_at, coalesce(r.closed_at, ''),"
                               " coalesce(r.reporter_name, ''), coalesce(r.reporter_email, ''),"
                               " coalesce(r.reporter_phone, '') FROM followups f"
                               " JOIN reports r ON r.id = f.report_id WHERE f.done_at IS NULL"
                               " AND ($1::text IS NULL OR f.entity_code = $1::text)"
                               " AND ($2::text IS NULL OR f.kind = $2::text)"
                               " AND ($3::bigint = 0 OR f.id > $3::bigint) ORDER BY f.id LIMIT $4::int",
    [SQL_FOLLOWUP_GET]       = "SELECT f.report_id, f.entity_code, f.kind, coalesce(f.done_at, '')"
                               " FROM followups f WHERE f.id = $1::bigint",
    [SQL_FOLLOWUP_DONE]      = "UPDATE followups SET done_at = " NOW_UTC ", done_by = $2::text,"
                               " note = nullif($3::text, '') WHERE id = $1::bigint AND done_at IS NULL",
    [SQL_SCORE_ALL]          = "SELECT " SCORE_COLUMNS " FROM reports ORDER BY id",
    [SQL_SCORE_ONE]          = "SELECT " SCORE_COLUMNS " FROM reports WHERE id = $1::bigint",
    [SQL_SCORE_LOG]          = "SELECT seq, report_id FROM stats_log WHERE seq > $1::bigint"
                               " ORDER BY seq LIMIT $2::int",
    [SQL_SCORE_LOG_TOP]      = "SELECT coalesce(max(seq), 0) FROM stats_log",
    [SQL_SCORE_LOG_AT]       = "SELECT report_id FROM stats_log WHERE seq = $1::bigint",
    [SQL_SCORE_LOG_MIN]      = "SELECT coalesce(min(seq), 0) FROM stats_log",
    [SQL_SCORE_LOG_PRUNE]    = "DELETE FROM stats_log WHERE seq <= $1::bigint",
    [SQL_EXPORT_MONTHS]      = "SELECT substr(day, 1, 7), sum(received)::bigint FROM stats_daily"
                               " GROUP BY 1 HAVING sum(received) > 0 ORDER BY 1",
};
/* clang-format on */

/* ---- SQL the C code writes inline, as PostgreSQL reads it ---- */

/* store_begin(): a write transaction; PostgreSQL takes row locks as it goes, so there is no
 * BEGIN IMMEDIATE, and READ COMMITTED is what each statement of the store expects. */
const char store_pg_begin[] = "BEGIN";
/* store_defer_foreign_keys(): the constraints are DEFERRABLE (data/migrations/pg). */
const char store_pg_defer_foreign_keys[] = "SET CONSTRAINTS ALL DEFERRED";
/* store_schema_version(): before migration 0001, so without reporta_now(). */
const char store_pg_schema_migrations[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
    " name text NOT NULL, applied_at text NOT NULL DEFAULT"
    " (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')))";
const char store_pg_migration_record[] =
    "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2::text)";

/* store_writer.c: the SQLite text is PostgreSQL's too; spelled out in full here. */
const char store_pg_savepoint[] = "SAVEPOINT job";
const char store_pg_release[] = "RELEASE SAVEPOINT job";
const char store_pg_rollback_to[] = "ROLLBACK TO SAVEPOINT job";

/* store_areas.c remap_fill(): PostgreSQL names the session's temporary schema pg_temp. */
const char store_areas_pg_remap_tables[] =
    "CREATE TEMP TABLE IF NOT EXISTS area_remap (old text COLLATE \"C\" PRIMARY KEY,"
    " new text COLLATE \"C\" NOT NULL, level integer NOT NULL, old_name text COLLATE \"C\","
    " new_name text COLLATE \"C\");"
    "CREATE TEMP TABLE IF NOT EXISTS entity_remap (old text COLLATE \"C\" PRIMARY KEY,"
    " new text COLLATE \"C\" NOT NULL);"
    "DELETE FROM pg_temp.area_remap; DELETE FROM pg_temp.entity_remap;";

/* store_stats.c build(): keys in byte order (COLLATE "C"), as seek() merges them with strcmp
 * whatever the database's collation; a missing key is ''::text (PostgreSQL refuses a bare
 * string constant in GROUP BY and ORDER BY); sums cast back to bigint (sum(bigint) is numeric). */
const char *const store_stats_pg_key[STORE_STAT_KEYS] = {
    [STORE_STAT_ENTITY] = "entity_code COLLATE \"C\"",
    [STORE_STAT_SERVICE] = "service_code COLLATE \"C\"",
    [STORE_STAT_PROVINCIA] = "provincia_code COLLATE \"C\"",
    [STORE_STAT_DISTRITO] = "distrito_code COLLATE \"C\"",
    [STORE_STAT_CORREGIMIENTO] = "corregimiento_code COLLATE \"C\"",
    [STORE_STAT_MONTH] = "substr(day, 1, 7) COLLATE \"C\"",
};
const char store_stats_pg_key_none[] = "''::text";
const char store_stats_pg_filter[] =
    " WHERE ($1::text IS NULL OR day >= $1::text) AND ($2::text IS NULL OR day <= $2::text)"
    " AND ($3::text IS NULL OR service_code = $3::text)"
    " AND ($4::text IS NULL OR entity_code = $4::text)"
    " AND ($5::text IS NULL OR provincia_code = $5::text OR distrito_code = $5::text"
    " OR corregimiento_code = $5::text)";
/* tows have no service or entity columns: $3 and $4 are NULL for them (tows_apply), but every
 * parameter up to the last must have a type, so num_nulls() names them (always true) */
const char store_stats_pg_tows_filter[] =
    " WHERE ($1::text IS NULL OR day >= $1::text) AND ($2::text IS NULL OR day <= $2::text)"
    " AND num_nulls($3::text, $4::text) >= 0"
    " AND ($5::text IS NULL OR provincia_code = $5::text OR distrito_code = $5::text"
    " OR corregimiento_code = $5::text)";
const char store_stats_pg_counts[] =
    "sum(received)::bigint, sum(open)::bigint, sum(closed)::bigint, sum(closed_in_sla)::bigint,"
    " sum(confirmations)::bigint, sum(ratings)::bigint, sum(rating_sum)::bigint,"
    " sum(followed_up)::bigint";
const char store_stats_pg_having[] = " HAVING sum(received) > 0";
const char store_stats_pg_overdue[] = "sum(n)::bigint";
const char store_stats_pg_overdue_extra[] = " AND due_at < $6::text";
const char store_stats_pg_hours[] = "hours, sum(n)::bigint";
const char store_stats_pg_hours_tail[] = "hours";
const char store_stats_pg_tows[] = "sum(tows)::bigint";
