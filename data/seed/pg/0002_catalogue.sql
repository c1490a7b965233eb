-- Seed (PostgreSQL): the 311 service catalogue and its routing rules. ON CONFLICT DO NOTHING:
-- an administrator's edits survive a re-run. Rules are keyed by fixed ids so re-running adds
-- nothing twice; the ids' identity sequence is then moved past them, or the next rule the API
-- creates would be given id 1 (SQLite takes max(id) + 1 by itself).
INSERT INTO services (code, name_es, name_en, grp, sla_hours, attributes) VALUES
    ('fuga_agua', 'Fuga de agua', 'Water leak', 'agua', 72,
     '[{"code":"severidad","datatype":"singlevaluelist","required":false,"order":1,'
     || '"description":"¿Qué tan fuerte es la fuga?","values":[{"key":"leve","name":"Goteo"},'
     || '{"key":"moderada","name":"Chorro"},{"key":"grave","name":"Inundación"}]}]'),
    ('sin_agua', 'Sin agua', 'No water supply', 'agua', 48, NULL),
    ('alcantarillado', 'Alcantarillado', 'Sewage', 'agua', 72, NULL),
    ('basura', 'Basura no recogida', 'Uncollected garbage', 'aseo', 48, NULL),
    ('hueco', 'Hueco en la vía', 'Pothole', 'vias', 720, NULL),
    ('alumbrado', 'Luminaria apagada', 'Street light out', 'electricidad', 168, NULL),
    ('semaforo', 'Semáforo dañado', 'Traffic light out', 'transito', 24, NULL),
    ('vehiculo_obstruccion', 'Vehículo obstruyendo', 'Vehicle obstructing', 'transito', 4, NULL),
    ('arbol_caido', 'Árbol caído', 'Fallen tree', 'ambiente', 72, NULL),
    ('criadero_mosquitos', 'Criadero de mosquitos', 'Mosquito breeding site', 'salud', 168, NULL),
    ('ruido', 'Ruido excesivo', 'Noise', 'convivencia', 168, NULL),
    ('contaminacion', 'Contaminación', 'Pollution', 'ambiente', 720, NULL)
ON CONFLICT DO NOTHING;

INSERT INTO routing_rules (id, service_code, area_code, entity_code, to_municipality,
                                     priority, note) VALUES
    (1, 'fuga_agua', NULL, 'IDAAN', 0, 0, 'national'),
    (2, 'sin_agua', NULL, 'IDAAN', 0, 0, 'national'),
    (3, 'alcantarillado', NULL, 'IDAAN', 0, 0, 'national'),
    (4, 'basura', '0808', 'AAUD', 0, 0, 'distrito Panamá'),
    (5, 'basura', '0810', 'AAUD', 0, 0, 'distrito San Miguelito'),
    (6, 'basura', NULL, NULL, 1, 10, 'the distrito''s municipality'),
    (7, 'basura', NULL, 'AAUD', 0, 0, 'national fallback where no municipality is known'),
    (8, 'hueco', NULL, 'MOP', 0, 0, 'national'),
    (9, 'alumbrado', '04', 'EDECHI', 0, 0, 'provincia Chiriquí'),
    (10, 'alumbrado', '01', 'EDECHI', 0, 0, 'provincia Bocas del Toro'),
    (11, 'alumbrado', '03', 'ENSA', 0, 0, 'provincia Colón'),
    (12, 'alumbrado', '05', 'ENSA', 0, 0, 'provincia Darién'),
    (13, 'alumbrado', '10', 'ENSA', 0, 0, 'comarca Guna Yala'),
    (14, 'alumbrado', '11', 'ENSA', 0, 0, 'comarca Emberá-Wounaan'),
    (15, 'alumbrado', '0810', 'ENSA', 0, 0, 'distrito San Miguelito'),
    (16, 'alumbrado', NULL, 'EDEMET', 0, 0, 'national'),
    (17, 'semaforo', NULL, 'ATTT', 0, 0, 'national'),
    (18, 'vehiculo_obstruccion', NULL, 'ATTT', 0, 0, 'national'),
    (19, 'arbol_caido', '080814', 'ACP', 0, 0, 'corregimiento Ancón (canal area)'),
    (20, 'arbol_caido', NULL, NULL, 1, 10, 'the distrito''s municipality'),
    (21, 'arbol_caido', NULL, 'MIAMBIENTE', 0, 0, 'national fallback'),
    (22, 'criadero_mosquitos', NULL, 'MINSA', 0, 0, 'national'),
    (23, 'ruido', NULL, NULL, 1, 10, 'the distrito''s municipality'),
    (24, 'ruido', NULL, 'MINSA', 0, 0, 'national fallback'),
    (25, 'contaminacion', NULL, 'MIAMBIENTE', 0, 0, 'national')
ON CONFLICT DO NOTHING;
DO $$
DECLARE
    seq regclass := pg_get_serial_sequence('routing_rules', 'id')::regclass;
BEGIN
    PERFORM setval(seq, m) FROM (SELECT max(id) AS m FROM routing_rules) AS r
        WHERE m > coalesce(pg_sequence_last_value(seq), 0);
END $$;
