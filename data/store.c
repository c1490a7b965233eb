/*
 * data/store.c - the connection, the statement cache, transactions and migrations.
 * Every SQL statement reporta runs is in sql_text[] below (the shapefile loader's scratch
 * database aside) and is prepared once per connection, then reset and rebound per use.
 * A connection is used by one thread at a time; SQLite's own locking (WAL, busy timeout)
 * arbitrates between the connections of different threads and processes.
 */
#include "data/store_int.h"
#include "data/store_sql_pg.h"


#include <errno.h>
#include <spatialite.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define KEY_COLUMNS \
    "id, name, role, coalesce(entity_code, ''), prefix, created_at, coalesce(revoked_at, '')"

#define SERVICE_COLUMNS \
    "code, name_es, name_en, grp, sla_hours, dup_radius_m, coalesce(attributes, ''), active"
#define ENTITY_COLUMNS "code, name, kind, coalesce(area_code, ''), active"
#define RULE_COLUMNS \
    "id, service_code, coalesce(area_code, ''), coalesce(entity_code, ''), to_municipality," \
    " priority, coalesce(sla_hours, 0), coalesce(note, '')"
#define NOW_UTC "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
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
    " (r.status IN " OPEN_STATUSES " AND r.due_at < " NOW_UTC "), r.created_at, r.updated_at," \
    " r.due_at, coalesce(r.closed_at, ''), r.is_private"
/* The filters of GET /api/v1/reports, each off when its parameter is NULL. */
#define REPORT_FILTERS \
    " (?1 IS NULL OR instr(?1, ',' || r.status || ',') > 0)" \
    " AND (?2 IS NULL OR r.service_code = ?2) AND (?3 IS NULL OR r.entity_code = ?3)" \
    " AND (?4 IS NULL OR ?4 IN (r.corregimiento_code, r.distrito_code, r.provincia_code))" \
    " AND (?5 IS NULL OR r.created_at >= ?5) AND (?6 IS NULL OR r.created_at < ?6)" \
    " AND (?7 = 0 OR (r.status IN " OPEN_STATUSES " AND r.due_at < " NOW_UTC "))" \
    " AND (?8 = 0 OR r.id < ?8) AND (?9 IS NULL OR instr(?9, ',' || r.case_no || ',') > 0)"

#define POINT_COLUMNS \
    "r.id, r.case_no, r.service_code, r.status, r.lat, r.lon, r.entity_code," \
    " coalesce(r.corregimiento_code, ''), coalesce(r.distrito_code, ''), coalesce(r.provincia_code, '')," \
    " r.created_at, r.due_at, r.confirmations"

/* clang-format off */
static const char *const sql_text[SQL__COUNT] = {
    [SQL_PING]               = "SELECT 1",
    [SQL_VERSION_GET]        = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [SQL_AREAS_COUNT]        = "SELECT level, count(*) FROM areas GROUP BY level",
    [SQL_AREAS_DELETE_LEVEL] = "DELETE FROM areas WHERE level = ?1",
    [SQL_AREAS_INSERT]       = "INSERT INTO areas (code, level, name, parent_code, source, geom)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, CastToMultiPolygon(GeomFromWKB(?6, 4326)))",
    [SQL_AREAS_EACH]         = "SELECT level, code, name, parent_code, AsBinary(geom) FROM areas"
                               " ORDER BY level, code",
    [SQL_AREAS_LOCATE]       = "SELECT code FROM areas WHERE level = ?1"
                               " AND ST_Covers(geom, MakePoint(?2, ?3, 4326))"
                               " AND ROWID IN (SELECT ROWID FROM SpatialIndex"
                               "   WHERE f_table_name = 'areas' AND search_frame = MakePoint(?2, ?3, 4326))"
                               " ORDER BY code LIMIT 1",
    [SQL_LAYERS_GET]         = "SELECT level, origin, coalesce(version, ''), source, imported_at"
                               " FROM area_layers",
    [SQL_LAYER_PUT]          = "INSERT INTO area_layers (level, origin, version, source, imported_at)"
                               " VALUES (?1, ?2, ?3, ?4, " NOW_UTC ") ON CONFLICT (level) DO UPDATE"
                               " SET origin = ?2, version = ?3, source = ?4, imported_at = " NOW_UTC,
    /* Re-keying after a new default (store_areas_upgrade): temp.area_remap holds the areas
       whose code or name changed, temp.entity_remap the municipalities that follow them. Each
       UPDATE reads the old values only, so codes that swap are safe. */
    [SQL_REMAP_ADD]          = "INSERT INTO temp.area_remap (old, new, level, old_name, new_name)"
                               " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQL_ENTITY_REMAP_FILL]  = "INSERT INTO temp.entity_remap (old, new) SELECT e.code, 'MUN-' || r.new"
                               " FROM entities e JOIN temp.area_remap r ON e.code = 'MUN-' || r.old"
                               " WHERE r.level = 1 AND r.old <> r.new AND e.kind = 'municipality'",
    [SQL_REKEY_REPORT_AREAS] = "UPDATE reports SET"
                               " provincia_code = coalesce((SELECT new FROM temp.area_remap"
                               "   WHERE old = provincia_code), provincia_code),"
                               " distrito_code = coalesce((SELECT new FROM temp.area_remap"
                               "   WHERE old = distrito_code), distrito_code),"
                               " corregimiento_code = coalesce((SELECT new FROM temp.area_remap"
                               "   WHERE old = corregimiento_code), corregimiento_code)"
                               " WHERE provincia_code IN (SELECT old FROM temp.area_remap WHERE old <> new)"
                               " OR distrito_code IN (SELECT old FROM temp.area_remap WHERE old <> new)"
                               " OR corregimiento_code IN (SELECT old FROM temp.area_remap WHERE old <> new)",
    [SQL_REKEY_RULE_AREAS]   = "UPDATE routing_rules SET area_code = (SELECT new FROM temp.area_remap"
                               " WHERE old = area_code) WHERE area_code IN"
                               " (SELECT old FROM temp.area_remap WHERE old <> new)",
    [SQL_REKEY_ENTITY_AREAS] = "UPDATE entities SET area_code = (SELECT new FROM temp.area_remap"
                               " WHERE old = area_code) WHERE area_code IN"
                               " (SELECT old FROM temp.area_remap WHERE old <> new)",
    /* a municipality still named as the seed named it follows its distrito's new name */
    [SQL_REKEY_ENTITY_NAMES] = "UPDATE entities SET name = 'Municipio de ' || r.new_name"
                               " FROM temp.area_remap r WHERE entities.kind = 'municipality'"
                               " AND entities.area_code = r.new AND r.level = 1"
                               " AND r.old_name <> r.new_name AND entities.name = 'Municipio de ' || r.old_name",
    /* codes are the primary key, checked row by row: move them aside first */
    [SQL_REKEY_ENTITY_MARK]  = "UPDATE entities SET code = char(1) || code WHERE code IN"
                               " (SELECT old FROM temp.entity_remap)",
    [SQL_REKEY_ENTITY_CODES] = "UPDATE entities SET code = (SELECT new FROM temp.entity_remap"
                               " WHERE char(1) || old = entities.code) WHERE substr(code, 1, 1) = char(1)",
    [SQL_REKEY_REPORT_ENTITY] = "UPDATE reports SET entity_code = (SELECT new FROM temp.entity_remap"
                               " WHERE old = entity_code) WHERE entity_code IN (SELECT old FROM temp.entity_remap)",
    [SQL_REKEY_KEY_ENTITY]   = "UPDATE api_keys SET entity_code = (SELECT new FROM temp.entity_remap"
                               " WHERE old = entity_code) WHERE entity_code IN (SELECT old FROM temp.entity_remap)",
    [SQL_REKEY_RULE_ENTITY]  = "UPDATE routing_rules SET entity_code = (SELECT new FROM temp.entity_remap"
                               " WHERE old = entity_code) WHERE entity_code IN (SELECT old FROM temp.entity_remap)",
    [SQL_REKEY_HISTORY]      = "UPDATE report_history SET"
                               " actor_entity = coalesce((SELECT new FROM temp.entity_remap"
                               "   WHERE old = actor_entity), actor_entity),"
                               " from_value = CASE kind WHEN 'transfer' THEN coalesce((SELECT new FROM"
                               "   temp.entity_remap WHERE old = from_value), from_value) ELSE from_value END,"
                               " to_value = CASE kind WHEN 'transfer' THEN coalesce((SELECT new FROM"
                               "   temp.entity_remap WHERE old = to_value), to_value) ELSE to_value END"
                               " WHERE actor_entity IN (SELECT old FROM temp.entity_remap) OR (kind = 'transfer'"
                               " AND (from_value IN (SELECT old FROM temp.entity_remap)"
                               " OR to_value IN (SELECT old FROM temp.entity_remap)))",
    [SQL_REKEY_AUDIT]        = "INSERT INTO audit_log (actor, actor_role, action, target, before, after)"
                               " SELECT ?1, ?2, 'entity.rekey', 'entity:' || e.new,"
                               " json_object('code', e.old, 'area_code', r.old),"
                               " json_object('code', e.new, 'area_code', r.new)"
                               " FROM temp.entity_remap e JOIN temp.area_remap r ON e.new = 'MUN-' || r.new"
                               " ORDER BY e.old",
    [SQL_ENTITY_EXISTS]      = "SELECT 1 FROM entities WHERE code = ?1",
    [SQL_KEY_INSERT]         = "INSERT INTO api_keys (name, role, entity_code, prefix, hash)"
                               " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQL_KEY_BY_HASH]        = "SELECT " KEY_COLUMNS " FROM api_keys WHERE hash = ?1",
    [SQL_KEY_GET]            = "SELECT " KEY_COLUMNS " FROM api_keys WHERE id = ?1",
    [SQL_KEY_REVOKE]         = "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
                               " WHERE id = ?1 AND revoked_at IS NULL",
    [SQL_KEYS_EACH]          = "SELECT " KEY_COLUMNS " FROM api_keys ORDER BY id",
    [SQL_AUDIT_ADD]          = "INSERT INTO audit_log (actor, actor_role, actor_entity, action, target,"
                               " before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQL_AUDIT_EACH]         = "SELECT id, at, actor, actor_role, actor_entity, action, target, before,"
                               " after FROM audit_log WHERE (?1 = 0 OR id < ?1)"
                               " AND (?2 IS NULL OR target = ?2) ORDER BY id DESC LIMIT ?3",
    [SQL_SERVICE_GET]        = "SELECT " SERVICE_COLUMNS " FROM services WHERE code = ?1",
    [SQL_SERVICES_EACH]      = "SELECT " SERVICE_COLUMNS " FROM services ORDER BY grp, code",
    [SQL_SERVICE_PUT]        = "INSERT INTO services (code, name_es, name_en, grp, sla_hours,"
                               " dup_radius_m, attributes, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                               " nullif(?7, ''), ?8) ON CONFLICT (code) DO UPDATE SET"
                               " name_es = ?2, name_en = ?3, grp = ?4, sla_hours = ?5,"
                               " dup_radius_m = ?6, attributes = nullif(?7, ''), active = ?8",
    [SQL_ENTITY_GET]         = "SELECT " ENTITY_COLUMNS " FROM entities WHERE code = ?1",
    [SQL_ENTITIES_EACH]      = "SELECT " ENTITY_COLUMNS " FROM entities ORDER BY kind, code",
    [SQL_ENTITY_PUT]         = "INSERT INTO entities (code, name, kind, area_code, active)"
                               " VALUES (?1, ?2, ?3, nullif(?4, ''), ?5) ON CONFLICT (code) DO"
                               " UPDATE SET name = ?2, kind = ?3, area_code = nullif(?4, ''),"
                               " active = ?5",
    [SQL_RULES_FOR]          = "SELECT " RULE_COLUMNS " FROM routing_rules WHERE service_code = ?1"
                               " AND (area_code IS NULL OR area_code IN (?2, ?3, ?4))"
                               " ORDER BY CASE area_code WHEN ?2 THEN 0 WHEN ?3 THEN 1"
                               " WHEN ?4 THEN 2 ELSE 3 END, priority DESC, id",
    [SQL_RULES_EACH]         = "SELECT " RULE_COLUMNS " FROM routing_rules ORDER BY service_code, id",
    [SQL_RULE_GET]           = "SELECT " RULE_COLUMNS " FROM routing_rules WHERE id = ?1",
    [SQL_RULE_INSERT]        = "INSERT INTO routing_rules (service_code, area_code, entity_code,"
                               " to_municipality, priority, sla_hours, note) VALUES (?1,"
                               " nullif(?2, ''), nullif(?3, ''), ?4, ?5, nullif(?6, 0), nullif(?7, ''))",
    [SQL_RULE_UPDATE]        = "UPDATE routing_rules SET service_code = ?1, area_code = nullif(?2, ''),"
                               " entity_code = nullif(?3, ''), to_municipality = ?4, priority = ?5,"
                               " sla_hours = nullif(?6, 0), note = nullif(?7, '') WHERE id = ?8",
    [SQL_RULE_DELETE]        = "DELETE FROM routing_rules WHERE id = ?1",
    [SQL_RULES_NATIONAL]     = "SELECT count(*) FROM routing_rules WHERE service_code = ?1"
                               " AND area_code IS NULL AND entity_code IS NOT NULL",
    [SQL_IDEM_GET]           = "SELECT i.body_hash, i.report_id, i.token FROM idempotency_keys i"
                               " WHERE i.key = ?1",
    [SQL_IDEM_PUT]           = "INSERT INTO idempotency_keys (key, body_hash, report_id, token,"
                               " created_at) VALUES (?1, ?2, ?3, ?4, " NOW_UTC ")",
    [SQL_CASE_NEXT]          = "INSERT INTO case_counters (year, last) VALUES (?1, 1)"
                               " ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
    [SQL_REPORT_INSERT]      = "INSERT INTO reports (case_no, token_hash, service_code, status, lat,"
                               " lon, corregimiento_code, distrito_code, provincia_code, snapped_m,"
                               " location_source, address, description, attributes, reporter_name,"
                               " reporter_email, reporter_phone, device_id, entity_code, rule_id,"
                               " created_at, updated_at, due_at, is_private, geom) VALUES (?1, ?2, ?3,"
                               " 'received', ?4, ?5, nullif(?6, ''), nullif(?7, ''), nullif(?8, ''),"
                               " nullif(?9, 0), ?10, nullif(?11, ''), nullif(?12, ''),"
                               " nullif(?13, ''), nullif(?14, ''), nullif(?15, ''), nullif(?16, ''),"
                               " nullif(?17, ''), ?18, nullif(?19, 0), ?20, ?20, ?21, ?22,"
                               " MakePoint(?5, ?4, 4326))",
    [SQL_REPORT_GET]         = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.case_no = ?1",
    [SQL_REPORT_BY_ID]       = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.id = ?1",
    [SQL_REPORT_BY_TOKEN]    = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.token_hash = ?1",
    [SQL_REPORTS_QUERY]      = "SELECT " REPORT_COLUMNS " FROM reports r WHERE" REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT ?10",
    [SQL_REPORTS_QUERY_BBOX] = "SELECT " REPORT_COLUMNS " FROM reports r WHERE r.id IN"
                               " (SELECT pkid FROM idx_reports_geom WHERE xmax >= ?11"
                               " AND xmin <= ?13 AND ymax >= ?12 AND ymin <= ?14)"
                               " AND +r.lon BETWEEN ?11 AND ?13 AND +r.lat BETWEEN ?12 AND ?14 AND"
                               REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT ?10",
    [SQL_REPORTS_NEAR]       = "SELECT r.id, r.case_no, r.status, r.created_at, r.lat, r.lon,"
                               " r.confirmations FROM reports r WHERE r.id IN"
                               " (SELECT pkid FROM idx_reports_geom WHERE xmax >= ?2"
                               " AND xmin <= ?4 AND ymax >= ?3 AND ymin <= ?5)"
                               /* unary + keeps the planner on the R*Tree: the service's
                                  index would scan every recent case of the service */
                               " AND +r.service_code = ?1 AND +r.status IN " OPEN_STATUSES
                               " AND +r.created_at >= ?6 ORDER BY r.id DESC",
    [SQL_REPORT_SET_STATUS]  = "UPDATE reports SET status = ?3, updated_at = " NOW_UTC ","
                               " closed_at = CASE WHEN ?4 THEN coalesce(closed_at, " NOW_UTC ") ELSE NULL END,"
                               " duplicate_of = nullif(?5, 0) WHERE id = ?1 AND status = ?2",
    [SQL_REPORT_SET_ENTITY]  = "UPDATE reports SET entity_code = ?2, status = ?3, rule_id = NULL,"
                               " updated_at = " NOW_UTC " WHERE id = ?1",
    [SQL_HISTORY_ADD]        = "INSERT INTO report_history (report_id, at, kind, actor, actor_role,"
                               " actor_entity, from_value, to_value, note) VALUES (?1,"
                               " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [SQL_HISTORY_EACH]       = "SELECT id, at, kind, actor, actor_role, actor_entity, from_value,"
                               " to_value, note FROM report_history WHERE report_id = ?1 ORDER BY id",
    [SQL_CONFIRM_ADD]        = "INSERT OR IGNORE INTO confirmations (report_id, device_id, at)"
                               " VALUES (?1, ?2, " NOW_UTC ")",
    [SQL_PHOTO_ADD]          = "INSERT OR IGNORE INTO photos (report_id, sha256, width, height,"
                               " thumb_width, thumb_height, kind, added_by) VALUES (?1, ?2, ?3,"
                               " ?4, ?5, ?6, ?7, ?8)",
    [SQL_PHOTOS_EACH]        = "SELECT sha256, width, height, thumb_width, thumb_height, kind,"
                               " added_by FROM photos WHERE report_id = ?1 ORDER BY id",
    [SQL_PHOTO_KNOWN]        = "SELECT 1 FROM photos WHERE sha256 = ?1 LIMIT 1",
    [SQL_POINTS_OPEN]        = "SELECT " POINT_COLUMNS " FROM reports r WHERE r.status IN "
                               OPEN_STATUSES " ORDER BY r.id",
    [SQL_POINT_GET]          = "SELECT " POINT_COLUMNS " FROM reports r WHERE r.id = ?1",
    [SQL_POINTS_QUERY]       = "SELECT " POINT_COLUMNS " FROM reports r WHERE" REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT ?10",
    [SQL_POINTS_QUERY_BBOX]  = "SELECT " POINT_COLUMNS " FROM reports r WHERE r.id IN"
                               " (SELECT pkid FROM idx_reports_geom WHERE xmax >= ?11"
                               " AND xmin <= ?13 AND ymax >= ?12 AND ymin <= ?14)"
                               " AND +r.lon BETWEEN ?11 AND ?13 AND +r.lat BETWEEN ?12 AND ?14 AND"
                               REPORT_FILTERS
                               " ORDER BY r.id DESC LIMIT ?10",
    [SQL_CONFIRM_COUNT]      = "UPDATE reports SET confirmations = confirmations + 1,"
                               " updated_at = " NOW_UTC " WHERE id = ?1",
    [SQL_YARD_PUT]           = "INSERT INTO yards (code, name, address, lat, lon, geofence, radius_m,"
                               " hours_es, hours_en, phone, tow_fee_cents, daily_fee_cents,"
                               " documents_es, documents_en, active, updated_at) VALUES (?1, ?2, ?3,"
                               " ?4, ?5, ?6, nullif(?7, 0), ?8, ?9, nullif(?10, ''), ?11, ?12, ?13,"
                               " ?14, ?15, " NOW_UTC ") ON CONFLICT (code) DO UPDATE SET name = ?2,"
                               " address = ?3, lat = ?4, lon = ?5, geofence = ?6,"
                               " radius_m = nullif(?7, 0), hours_es = ?8, hours_en = ?9,"
                               " phone = nullif(?10, ''), tow_fee_cents = ?11, daily_fee_cents = ?12,"
                               " documents_es = ?13, documents_en = ?14, active = ?15,"
                               " updated_at = " NOW_UTC " RETURNING id, updated_at",
    [SQL_YARD_EXISTS]        = "SELECT 1 FROM yards WHERE code = ?1",
    [SQL_YARDS_EACH]         = "SELECT id, code, name, address, lat, lon, geofence,"
                               " coalesce(radius_m, 0), hours_es, hours_en, phone, tow_fee_cents,"
                               " daily_fee_cents, documents_es, documents_en, active, updated_at"
                               " FROM yards ORDER BY code",
    [SQL_YARD_USED]          = "SELECT 1 FROM tows t JOIN yards y ON t.yard_id = y.id"
                               " WHERE y.code = ?1 LIMIT 1",
    [SQL_YARD_DELETE]        = "DELETE FROM yards WHERE code = ?1",
    [SQL_TRUCK_PUT]          = "INSERT INTO trucks (code, entity_code, plate, active, updated_at)"
                               " VALUES (?1, ?2, ?3, ?4, " NOW_UTC ") ON CONFLICT (code) DO UPDATE"
                               " SET entity_code = ?2, plate = ?3, active = ?4,"
                               " updated_at = " NOW_UTC " RETURNING id, updated_at",
    [SQL_TRUCK_EXISTS]       = "SELECT 1 FROM trucks WHERE code = ?1",
    [SQL_TRUCKS_EACH]        = "SELECT id, code, entity_code, plate, active, updated_at FROM trucks"
                               " ORDER BY code",
    [SQL_TRUCK_USED]         = "SELECT 1 FROM trucks k WHERE k.code = ?1 AND (EXISTS (SELECT 1"
                               " FROM tows t WHERE t.truck_id = k.id) OR EXISTS (SELECT 1 FROM"
                               " truck_positions p WHERE p.truck_id = k.id))",
    [SQL_TRUCK_DELETE]       = "DELETE FROM trucks WHERE code = ?1",
    [SQL_POSITION_ADD]       = "INSERT INTO truck_positions (truck_id, at, lat, lon, speed_kmh,"
                               " heading, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, " NOW_UTC ")"
                               " ON CONFLICT (truck_id, at) DO NOTHING",
    [SQL_POSITIONS_EACH]     = "SELECT truck_id, at, lat, lon, speed_kmh, heading FROM"
                               " truck_positions WHERE truck_id = ?1 AND at >= coalesce(?2, '')"
                               " ORDER BY at LIMIT ?3",
    [SQL_POSITIONS_LATEST]   = "SELECT p.truck_id, p.at, p.lat, p.lon, p.speed_kmh, p.heading"
                               " FROM trucks k JOIN truck_positions p ON p.truck_id = k.id"
                               " AND p.at = (SELECT max(at) FROM truck_positions q"
                               " WHERE q.truck_id = k.id)",
    [SQL_TOW_INSERT]         = "INSERT INTO tows (plate, make, colour, vehicle_type, lat, lon,"
                               " corregimiento_code, distrito_code, provincia_code, address, reason,"
                               " ticket, ticket_key, entity_code, truck_id, yard_id, report_id,"
                               " status, created_at, towing_at, updated_at) VALUES (?1,"
                               " nullif(?2, ''), nullif(?3, ''), nullif(?4, ''), ?5, ?6,"
                               " nullif(?7, ''), nullif(?8, ''), nullif(?9, ''), nullif(?10, ''),"
                               " ?11, ?12, ?13, ?14, ?15, ?16, nullif(?17, 0), ?18, ?19,"
                               " nullif(?20, ''), ?19)",
    [SQL_TOW_GET]            = "SELECT " TOW_COLUMNS " FROM tows WHERE id = ?1",
    [SQL_TOW_SET_STATUS]     = "UPDATE tows SET status = ?3, updated_at = ?4,"
                               " towing_at = CASE ?3 WHEN 'towing' THEN ?4 ELSE towing_at END,"
                               " at_yard_at = CASE ?3 WHEN 'at_yard' THEN ?4 ELSE at_yard_at END,"
                               " released_at = CASE ?3 WHEN 'released' THEN ?4 ELSE released_at END,"
                               " cancelled_at = CASE ?3 WHEN 'cancelled' THEN ?4 ELSE cancelled_at END"
                               " WHERE id = ?1 AND status = ?2",
    [SQL_TOWS_ACTIVE]        = "SELECT " TOW_COLUMNS " FROM tows WHERE status IN ('requested',"
                               " 'towing', 'at_yard') ORDER BY id",
    [SQL_TOWS_QUERY]         = "SELECT " TOW_COLUMNS " FROM tows WHERE (?1 IS NULL OR entity_code = ?1)"
                               " AND (?2 IS NULL OR plate = ?2) AND (?3 IS NULL OR status = ?3)"
                               " AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?5",
    [SQL_TOW_HISTORY_ADD]    = "INSERT INTO tow_history (tow_id, at, from_status, to_status, actor,"
                               " actor_role, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, ''))",
    [SQL_TOW_HISTORY_EACH]   = "SELECT id, at, from_status, to_status, actor, actor_role, note"
                               " FROM tow_history WHERE tow_id = ?1 ORDER BY id",
    /* (created_at, id) keyset over reports_created, whose entries carry the rowid: in that
     * order, no sort, however many cases the range holds. */
    [SQL_EXPORT_PAGE]        = "SELECT r.id, r.case_no, r.service_code, coalesce(s.name_es, ''),"
                               " r.entity_code, coalesce(e.name, ''), r.status, r.created_at,"
                               " coalesce(r.closed_at, ''), CASE WHEN r.closed_at IS NULL THEN -1"
                               " ELSE r.closed_at <= r.due_at END, r.due_at,"
                               " coalesce(r.corregimiento_code, ''), coalesce(c.name, ''),"
                               " coalesce(r.distrito_code, ''), coalesce(d.name, ''),"
                               " coalesce(r.provincia_code, ''), coalesce(p.name, ''), r.lat, r.lon,"
                               " CASE WHEN r.is_private THEN '' ELSE coalesce(r.description, '') END"
                               " FROM reports r LEFT JOIN services s ON s.code = r.service_code"
                               " LEFT JOIN entities e ON e.code = r.entity_code"
                               " LEFT JOIN areas c ON c.code = r.corregimiento_code"
                               " LEFT JOIN areas d ON d.code = r.distrito_code"
                               " LEFT JOIN areas p ON p.code = r.provincia_code"
                               " WHERE (r.created_at, r.id) > (?1, ?2) AND r.created_at < ?3"
                               " ORDER BY r.created_at, r.id LIMIT ?4",
    [SQL_HOOKS_FLAG_OFF]     = "UPDATE webhooks SET active = 0 WHERE source = 'flag'",
    [SQL_HOOK_FLAG_PUT]      = "INSERT INTO webhooks (url, secret, trusted, active, source)"
                               " VALUES (?1, ?2, ?3, 1, 'flag') ON CONFLICT (url) DO UPDATE SET"
                               " secret = excluded.secret, trusted = excluded.trusted, active = 1,"
                               " source = 'flag'",
    [SQL_HOOKS_EACH]         = "SELECT w.id, w.url, w.secret, w.trusted, w.active, w.source,"
                               " w.delivered, w.failures, coalesce(w.last_error, ''),"
                               " (SELECT count(*) FROM deliveries d WHERE d.webhook_id = w.id)"
                               " FROM webhooks w WHERE ?1 = 0 OR w.active = 1 ORDER BY w.id",
    /* the head of each stream that is due: one event per case or tow at a time, in order;
     * only the due rows are read (a dead endpoint's held backlog is not walked) */
    [SQL_DELIVERIES_DUE]     = "SELECT d.event_id, e.uid, e.type, e.stream, coalesce(e.report_id, 0),"
                               " coalesce(e.tow_id, 0), e.payload, d.attempts FROM deliveries d"
                               " INDEXED BY deliveries_due JOIN events e ON e.id = d.event_id"
                               " WHERE d.webhook_id = ?1 AND d.next_at <= ?2 AND NOT EXISTS"
                               " (SELECT 1 FROM deliveries h INDEXED BY deliveries_stream"
                               " WHERE h.webhook_id = ?1 AND h.stream = d.stream"
                               " AND h.event_id < d.event_id) ORDER BY d.event_id LIMIT ?3",
    [SQL_DELIVERY_DELETE]    = "DELETE FROM deliveries WHERE webhook_id = ?1 AND event_id = ?2",
    [SQL_HOOK_DELIVERED]     = "UPDATE webhooks SET delivered = delivered + 1 WHERE id = ?1",
    [SQL_DELIVERY_RETRY]     = "UPDATE deliveries SET attempts = attempts + 1, last_error = ?3"
                               " WHERE webhook_id = ?1 AND event_id = ?2",
    [SQL_STREAM_HOLD]        = "UPDATE deliveries SET next_at = max(next_at, ?3)"
                               " WHERE webhook_id = ?1 AND stream = ?2",
    [SQL_HOOK_FAILED]        = "UPDATE webhooks SET failures = failures + 1, last_error = ?2"
                               " WHERE id = ?1",
    [SQL_CONTACT_REPORT]     = "SELECT reporter_name, reporter_email, reporter_phone FROM reports"
                               " WHERE id = ?1",
    [SQL_CONTACT_TOW]        = "SELECT plate FROM tows WHERE id = ?1",
    /* the Open311 updates feed: changes after creation, not what Open311 clients posted
     * (they have those); times compared to the second whatever their precision */
    [SQL_UPDATES_EACH]       = "SELECT e.uid, r.case_no, e.type, e.at,"
                               " coalesce(json_extract(e.payload, '$.case.status'), r.status),"
                               " coalesce(h.kind, ''), coalesce(h.from_value, ''),"
                               " coalesce(h.to_value, ''), coalesce(h.note, ''),"
                               " coalesce(json_extract(e.payload, '$.photo.url'), '')"
                               " FROM events e JOIN reports r ON r.id = e.report_id"
                               " LEFT JOIN report_history h ON h.id = e.history_id"
                               " WHERE e.at >= ?5 AND e.at < ?4"
                               " AND strftime('%Y-%m-%dT%H:%M:%SZ', e.at) BETWEEN ?1 AND ?2"
                               " AND e.type IN ('case.status', 'case.transfer', 'case.photo',"
                               " 'case.update', 'case.tow')"
                               " AND (h.actor IS NULL OR h.actor NOT LIKE 'open311:%')"
                               " ORDER BY e.id LIMIT ?3",
    [SQL_UPDATE_FIND]        = "SELECT e.uid FROM report_history h JOIN events e ON e.history_id = h.id"
                               " WHERE h.report_id = ?1 AND h.kind = 'update' AND h.actor = ?2",
    [SQL_EVENT_OF_HISTORY]   = "SELECT uid FROM events WHERE history_id = ?1",
    [SQL_RATING_ADD]         = "INSERT INTO ratings (report_id, score, comment, reopened, at)"
                               " VALUES (?1, ?2, nullif(?3, ''), ?4, " NOW_UTC ")"
                               " ON CONFLICT (report_id) DO NOTHING",
    [SQL_REPORT_SET_RATING]  = "UPDATE reports SET rating = ?2 WHERE id = ?1",
    /* open 30 days with no change, once per quiet spell */
    [SQL_FOLLOWUPS_DUE]      = "INSERT INTO followups (report_id, kind, entity_code, raised_at)"
                               " SELECT r.id, 'followup_due', r.entity_code, ?1 FROM reports r"
                               " WHERE r.status IN " OPEN_STATUSES " AND r.updated_at <= ?2"
                               " AND NOT EXISTS (SELECT 1 FROM followups f WHERE f.report_id = r.id"
                               " AND f.kind = 'followup_due' AND f.raised_at >= r.updated_at)"
                               " LIMIT ?3",
    /* closed in the rating window, not rated, not asked since it closed */
    [SQL_FOLLOWUPS_SATISFACTION] = "INSERT INTO followups (report_id, kind, entity_code, raised_at)"
                               " SELECT r.id, 'satisfaction_requested', r.entity_code, ?1"
                               " FROM reports r WHERE r.closed_at IS NOT NULL AND r.closed_at >= ?2"
                               " AND r.closed_at <= ?1 AND r.status IN ('resolved', 'closed')"
                               " AND r.rating IS NULL AND NOT EXISTS (SELECT 1 FROM followups f"
                               " WHERE f.report_id = r.id AND f.kind = 'satisfaction_requested'"
                               " AND f.raised_at >= r.closed_at) LIMIT ?3",
    [SQL_FOLLOWUPS_OPEN]     = "SELECT f.id, f.kind, f.raised_at, r.case_no, r.service_code, r.status,"
                               " r.entity_code, r.created_at, coalesce(r.closed_at, ''),"
                               " coalesce(r.reporter_name, ''), coalesce(r.reporter_email, ''),"
                               " coalesce(r.reporter_phone, '') FROM followups f"
                               " JOIN reports r ON r.id = f.report_id WHERE f.done_at IS NULL"
                               " AND (?1 IS NULL OR f.entity_code = ?1) AND (?2 IS NULL OR f.kind = ?2)"
                               " AND (?3 = 0 OR f.id > ?3) ORDER BY f.id LIMIT ?4",
    [SQL_FOLLOWUP_GET]       = "SELECT f.report_id, f.entity_code, f.kind, coalesce(f.done_at, '')"
                               " FROM followups f WHERE f.id = ?1",
    [SQL_FOLLOWUP_DONE]      = "UPDATE followups SET done_at = " NOW_UTC ", done_by = ?2,"
                               " note = nullif(?3, '') WHERE id = ?1 AND done_at IS NULL",
    /* a case as the scorecard counts it, computed as the triggers of 0008/0012 compute it */
#define SCORE_COLUMNS \
    "id, date(created_at, '-5 hours'), entity_code, service_code, coalesce(provincia_code, '')," \
    " coalesce(distrito_code, ''), coalesce(corregimiento_code, ''), closed_at IS NOT NULL," \
    " CASE WHEN closed_at IS NULL THEN -1 ELSE (unixepoch(closed_at) - unixepoch(created_at)) / 3600 END," \
    " (closed_at IS NOT NULL AND closed_at <= due_at), unixepoch(due_at), confirmations," \
    " coalesce(rating, 0), (followed_up_at IS NOT NULL AND" \
    " unixepoch(followed_up_at) - unixepoch(created_at) <= 2592000)"
    [SQL_SCORE_ALL]          = "SELECT " SCORE_COLUMNS " FROM reports ORDER BY id",
    [SQL_SCORE_ONE]          = "SELECT " SCORE_COLUMNS " FROM reports WHERE id = ?1",
    [SQL_SCORE_LOG]          = "SELECT seq, report_id FROM stats_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [SQL_SCORE_LOG_TOP]      = "SELECT coalesce(max(seq), 0) FROM stats_log",
    [SQL_SCORE_LOG_AT]       = "SELECT report_id FROM stats_log WHERE seq = ?1",
    [SQL_SCORE_LOG_MIN]      = "SELECT coalesce(min(seq), 0) FROM stats_log",
    [SQL_SCORE_LOG_PRUNE]    = "DELETE FROM stats_log WHERE seq <= ?1",
    [SQL_EXPORT_MONTHS]      = "SELECT substr(day, 1, 7), sum(received) FROM stats_daily"
                               " GROUP BY 1 HAVING sum(received) > 0 ORDER BY 1",
};
/* clang-format on */

/* Pragmas every connection runs once. synchronous=FULL in WAL mode fsyncs the log on every
 * commit: a 201 means the row is on disk. Savepoints' sub-journals stay in memory (temp_store)
 * instead of a temp file created and unlinked per batch of the writer (25 % more reports/s in
 * bench/run ingest). A memory map (mmap_size) was measured too and made it slower: every
 * connection faults the pages into its own mapping and remaps as the file grows. */
static const char *const pragmas = "PRAGMA journal_mode=WAL;"
                                   "PRAGMA synchronous=FULL;"
                                   "PRAGMA foreign_keys=ON;"
                                   "PRAGMA temp_store=MEMORY;";

/* The class of the connection's last failure that is the storage's, not ours: a full disk or
 * quota (SQLite says SQLITE_FULL for ENOSPC on a write, an I/O error with EDQUOT, or ENOSPC when
 * it grows the -shm) or a database that cannot be written (SQLITE_READONLY, or EROFS behind an
 * I/O error: a filesystem the kernel turned read-only under us). STORE_E_OTHER otherwise. */
static int failure_class(struct store *s)
{
    int rc, e;

    if (s->pg)
        return store_pg_errclass(s);
    if (!s->db)
        return STORE_E_OTHER;
    rc = sqlite3_extended_errcode(s->db);
    e = sqlite3_system_errno(s->db);
    if ((rc & 0xff) == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR && (e == ENOSPC || e == EDQUOT)))
        return STORE_E_FULL;
    if ((rc & 0xff) == SQLITE_READONLY ||
        (((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN) && e == EROFS))
        return STORE_E_READONLY;
    return STORE_E_OTHER;
}

/* A full or read-only database is 507 with words for the client (nothing in them but that):
 * it passes when the operator frees space, and the next write works on the same connection.
 * The backend's own words go to the log. */
int store_sql_error(struct store *s, const char *what, struct rp_err *err)
{
    int c = s ? failure_class(s) : STORE_E_OTHER;

    if (c != STORE_E_FULL && c != STORE_E_READONLY)
        return rp_err_set(err, RP_STORAGE, "%s: %s", what, s ? store_errmsg(s) : "?");
    if (err && err->code == RP_OK)
        rp_error("store: %s: %s", what, store_errmsg(s));
    return rp_err_set(err, RP_INSUFFICIENT_STORAGE, "%s: nothing was saved; try again later",
                      c == STORE_E_FULL ? "the database's disk is full"
                                        : "the database is read-only");
}

const char *store_errmsg(struct store *s)
{
    return s->pg ? store_pg_errmsg(s) : s->db ? sqlite3_errmsg(s->db) : "?";
}

int64_t store_changes(struct store *s)
{
    return s->pg ? store_pg_changes(s) : sqlite3_changes(s->db);
}

int64_t store_last_id(struct store *s)
{
    return s->pg ? store_pg_last_id(s) : sqlite3_last_insert_rowid(s->db);
}

int64_t store_total_changes(struct store *s)
{
    return s->pg ? store_pg_total_changes(s) : sqlite3_total_changes64(s->db);
}

void store_col_copy(char *dst, size_t n, struct store_q *st, int col)
{
    const char *v = store_col_text(st, col);
    size_t len = v ? strlen(v) : 0;

    if (len >= n)
        len = n - 1;
    if (len)
        memcpy(dst, v, len);
    dst[len] = '\0';
}

int store_global_init(void)
{
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
        return RP_STORAGE;
    return sqlite3_initialize() == SQLITE_OK ? RP_OK : RP_STORAGE;
}

int store_open(const char *path, struct store **out, struct rp_err *err)
{
    struct store *s;
    char *msg = NULL;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return rp_err_set(err, RP_NO_MEMORY, "store");
    if (store_is_uri(path)) {
        rc = store_pg_open(s, path, err);
        if (rc != RP_OK)
            goto fail;
        *out = s;
        return RP_OK;
    }
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "open %s: %s", path,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    s->spatialite = spatialite_alloc_connection();
    if (!s->spatialite) {
        rc = rp_err_set(err, RP_NO_MEMORY, "spatialite connection");
        goto fail;
    }
    spatialite_init_ex(s->db, s->spatialite, 0);
    if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        rc = rp_err_set(err, RP_STORAGE, "open %s: %s", path, msg ? msg : "pragmas failed");
        sqlite3_free(msg);
        goto fail;
    }
    *out = s;
    return RP_OK;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int i = 0; i < SQL__COUNT; i++) {
        if (s->stmt[i].pg)
            store_pg_finalize(&s->stmt[i]);
        sqlite3_finalize(s->stmt[i].st);
    }
    store_pg_close(s);
    if (s->db)
        sqlite3_close(s->db);
    if (s->spatialite)
        spatialite_cleanup_ex(s->spatialite);
    free(s);
}

struct store_q *store_stmt(struct store *s, enum store_sql id, struct rp_err *err)
{
    struct store_q *q = &s->stmt[id];
    sqlite3_stmt *st = q->st;

    if (s->pg) {
        if (q->pg) {
            store_pg_reset(q);
            return q;
        }
        return store_pg_prepare(s, (int)id, store_sql_pg[id], err);
    }
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return q;
    }
    if (sqlite3_prepare_v3(s->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        store_sql_error(s, "prepare", err);
        return NULL;
    }
    q->st = st;
    return q;
}

struct store_q *store_prepare(struct store *s, const char *sql, struct rp_err *err)
{
    struct store_q *q;

    if (s->pg)
        return store_pg_prepare(s, -1, sql, err);
    if (!(q = calloc(1, sizeof *q))) {
        rp_err_set(err, RP_NO_MEMORY, "statement");
        return NULL;
    }
    if (sqlite3_prepare_v2(s->db, sql, -1, &q->st, NULL) != SQLITE_OK) {
        store_sql_error(s, "prepare", err);
        free(q);
        return NULL;
    }
    return q;
}

void store_finalize(struct store_q *q)
{
    if (!q)
        return;
    if (q->pg)
        store_pg_finalize(q);
    else
        sqlite3_finalize(q->st);
    free(q);
}

int store_exec(struct store *s, const char *sql, const char *what, struct rp_err *err)
{
    char *msg = NULL;

    if (s->pg)
        return store_pg_exec(s, sql, what, err);
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return RP_OK;
    if (failure_class(s) != STORE_E_OTHER) {
        sqlite3_free(msg);
        return store_sql_error(s, what, err);
    }
    rp_err_set(err, RP_STORAGE, "%s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return RP_STORAGE;
}

int store_defer_foreign_keys(struct store *s, struct rp_err *err)
{
    return store_exec(s, s->pg ? store_pg_defer_foreign_keys : "PRAGMA defer_foreign_keys = ON",
                      "defer foreign keys", err);
}

int store_run(struct store *s, struct store_q *st, const char *what, struct rp_err *err)
{
    int rc = store_step(st);

    store_reset(st);
    return rc == STORE_DONE ? RP_OK : store_sql_error(s, what, err);
}

int store_exists(struct store *s, struct store_q *st, int *exists, const char *what,
                 struct rp_err *err)
{
    int rc = store_step(st);

    *exists = rc == STORE_ROW;
    store_reset(st);
    return rc == STORE_ROW || rc == STORE_DONE ? RP_OK : store_sql_error(s, what, err);
}

/* Bumped after every committed change of services, entities or routing rules made by this
 * process (see store_catalogue_version). */
static _Atomic uint64_t catalogue_version = 1;

uint64_t store_catalogue_version(void)
{
    return atomic_load_explicit(&catalogue_version, memory_order_acquire);
}

void store_catalogue_changed(void)
{
    atomic_fetch_add_explicit(&catalogue_version, 1, memory_order_release);
}

int store_is_pg(const struct store *s)
{
    return s->pg != NULL;
}

void store_catalogue_touch(struct store *s)
{
    if (s->in_tx)
        s->catalogue_dirty = 1; /* announced when the transaction commits */
    else
        atomic_fetch_add_explicit(&catalogue_version, 1, memory_order_release);
}

int store_begin(struct store *s, struct rp_err *err)
{
    if (s->pg ? store_pg_exec(s, store_pg_begin, "begin", err) != RP_OK
              : sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_error(s, "begin", err);
    s->in_tx = 1;
    return RP_OK;
}

int store_end(struct store *s, int rc, struct rp_err *err)
{
    if (!s->in_tx)
        return rc;
    s->in_tx = 0;
    if (rc == RP_OK) {
        if (s->pg ? store_pg_exec(s, "COMMIT", "commit", err) == RP_OK
                  : sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
            if (s->catalogue_dirty)
                atomic_fetch_add_explicit(&catalogue_version, 1, memory_order_release);
            s->catalogue_dirty = 0;
            return RP_OK;
        }
        rc = store_sql_error(s, "commit", err);
    }
    s->catalogue_dirty = 0;
    /* A failed ROLLBACK means SQLite already rolled back (it does so on some errors). */
    if (s->pg) {
        struct rp_err ignored = {0};
        (void)store_pg_exec(s, "ROLLBACK", "rollback", &ignored);
    } else {
        (void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

int store_ping(struct store *s, struct rp_err *err)
{
    struct store_q *st = store_stmt(s, SQL_PING, err);

    if (!st)
        return RP_STORAGE;
    if (store_step(st) != STORE_ROW)
        return store_sql_error(s, "ping", err);
    store_reset(st);
    return RP_OK;
}

int store_schema_version(struct store *s, int *version, struct rp_err *err)
{
    struct store_q *st;

    *version = 0;
    if (store_exec(s,
                   s->pg ? store_pg_schema_migrations
                         : "CREATE TABLE IF NOT EXISTS schema_migrations ("
                           " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                           " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
                   "schema_migrations", err) != RP_OK)
        return RP_STORAGE;
    st = store_stmt(s, SQL_VERSION_GET, err);
    if (!st)
        return RP_STORAGE;
    if (store_step(st) != STORE_ROW)
        return store_sql_error(s, "schema version", err);
    *version = store_col_int(st, 0);
    store_reset(st);
    return RP_OK;
}

/* A migration that rebuilds a table other tables refer to (SQLite cannot change a CHECK in
 * place) says so on a line of its own; it then runs with foreign keys off, as SQLite's
 * documented procedure asks, and foreign_key_check must find nothing before it commits. */
#define MIGRATION_REBUILDS "-- reporta: rebuilds referenced tables"

static int foreign_keys_intact(struct store *s, const char *name, struct rp_err *err)
{
    struct store_q *st = store_prepare(s, "PRAGMA foreign_key_check", err);
    int rc = RP_OK, step;

    if (!st)
        return RP_STORAGE;
    step = store_step(st);
    if (step == STORE_ROW)
        rc = rp_err_set(err, RP_STORAGE, "migration %s: a row of %s refers to a missing row",
                        name, store_col_text(st, 0));
    else if (step != STORE_DONE)
        rc = store_sql_error(s, "foreign_key_check", err);
    store_finalize(st);
    return rc;
}

static int migration_apply(struct store *s, const struct store_migration *m, struct rp_err *err)
{
    struct store_q *st = NULL;
    char *msg = NULL;
    int rebuilds = !s->pg && strstr(m->sql, MIGRATION_REBUILDS) != NULL, rc;

    if (rebuilds && sqlite3_exec(s->db, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_error(s, "foreign_keys", err);
    rc = store_begin(s, err);
    if (rc != RP_OK)
        goto fk;
    if (s->pg ? store_pg_exec(s, m->sql, m->name, err) != RP_OK
              : sqlite3_exec(s->db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
        if (!s->pg)
            rp_err_set(err, RP_STORAGE, "migration %s: %s", m->name, msg ? msg : "failed");
        rc = RP_STORAGE;
        sqlite3_free(msg);
        goto out;
    }
    st = store_prepare(s, s->pg ? store_pg_migration_record
                                : "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
                       err);
    if (!st) {
        rc = RP_STORAGE;
        goto out;
    }
    store_bind_int(st, 1, m->version);
    store_bind_text(st, 2, m->name);
    if (store_step(st) != STORE_DONE)
        rc = store_sql_error(s, "migration record", err);
    if (rc == RP_OK && rebuilds)
        rc = foreign_keys_intact(s, m->name, err);
out:
    if (st)
        store_finalize(st);
    rc = store_end(s, rc, err);
fk:
    if (rebuilds && sqlite3_exec(s->db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK &&
        rc == RP_OK)
        rc = store_sql_error(s, "foreign_keys", err);
    return rc;
}

int store_seed_run(struct store *s, struct rp_err *err)
{
    int rc = RP_OK;

    for (const struct store_migration *m = s->pg ? store_seeds_pg : store_seeds;
         rc == RP_OK && m->name; m++)
        rc = store_exec(s, m->sql, m->name, err);
    return rc;
}

int store_seed(struct store *s, struct rp_err *err)
{
    int rc = store_begin(s, err);

    if (rc == RP_OK)
        rc = store_seed_run(s, err);
    return store_end(s, rc, err);
}

int store_schema_latest(void)
{
    int v = 0;
    for (const struct store_migration *m = store_migrations; m->version; m++)
        v = m->version > v ? m->version : v;
    return v;
}

int store_migrate(struct store *s, int *applied, struct rp_err *err)
{
    int version, n = 0, rc;

    rc = store_schema_version(s, &version, err);
    for (const struct store_migration *m = s->pg ? store_migrations_pg : store_migrations;
         rc == RP_OK && m->version; m++) {
        if (m->version <= version)
            continue;
        rc = migration_apply(s, m, err);
        if (rc == RP_OK) {
            rp_info("store: applied migration %s", m->name);
            n++;
        }
    }
    if (applied)
        *applied = n;
    return rc;
}
