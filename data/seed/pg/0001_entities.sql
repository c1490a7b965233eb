-- Seed (PostgreSQL): the institutions of Panama's 311 routing. Run by `reporta init` after
-- migrations; ON CONFLICT DO NOTHING, so rows an administrator has edited are left as they are.
INSERT INTO entities (code, name, kind) VALUES
    ('IDAAN', 'Instituto de Acueductos y Alcantarillados Nacionales', 'national'),
    ('ATTT', 'Autoridad de Tránsito y Transporte Terrestre', 'national'),
    ('AAUD', 'Autoridad de Aseo Urbano y Domiciliario', 'national'),
    ('MOP', 'Ministerio de Obras Públicas', 'national'),
    ('MINSA', 'Ministerio de Salud', 'national'),
    ('MIAMBIENTE', 'Ministerio de Ambiente', 'national'),
    ('ACP', 'Autoridad del Canal de Panamá', 'national'),
    ('ENSA', 'Elektra Noreste, S.A.', 'utility'),
    ('EDEMET', 'Empresa de Distribución Eléctrica Metro-Oeste', 'utility'),
    ('EDECHI', 'Empresa de Distribución Eléctrica Chiriquí', 'utility')
ON CONFLICT DO NOTHING;

-- One municipality per distrito, from whatever distritos are imported.
INSERT INTO entities (code, name, kind, area_code)
    SELECT 'MUN-' || code, 'Municipio de ' || name, 'municipality', code
    FROM areas WHERE level = 1
ON CONFLICT DO NOTHING;
