/*
 * tests/test_diff.c - geo/diff: areas matched by name and parent across versions, never by
 * code alone: two codes that swap, a child following its re-coded parent, a rename, an area
 * removed and one added, names equal once case and accents are folded, and two areas of the
 * same name under one parent told apart by code.
 */
#include "check.h"
#include "geo/diff.h"

static const struct geo_diff_change *change_of(const struct geo_diff *d, const char *old,
                                               const char *new_code)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct geo_diff_change *c = &d->v[i];
        if ((old ? c->before && strcmp(c->before->code, old) == 0 : !c->before) &&
            (new_code ? c->after && strcmp(c->after->code, new_code) == 0 : !c->after))
            return c;
    }
    return NULL;
}

static void test_swapped_codes_follow_names_and_children_follow_parents(void)
{
    static const struct geo_diff_area before[] = {
        {RP_LEVEL_PROVINCIA, "13", "Panamá Oeste", NULL},
        {RP_LEVEL_DISTRITO, "1302", "Capira", "13"},
        {RP_LEVEL_DISTRITO, "1303", "Chame", "13"},
        {RP_LEVEL_DISTRITO, "1304", "La Chorrera", "13"},
        {RP_LEVEL_DISTRITO, "1306", "Viejo", "13"},
        {RP_LEVEL_CORREGIMIENTO, "130301", "Chame", "1303"},
        {RP_LEVEL_CORREGIMIENTO, "130302", "Bejuco", "1303"},
        {RP_LEVEL_CORREGIMIENTO, "130401", "Barrio Balboa", "1304"},
    };
    static const struct geo_diff_area after[] = {
        {RP_LEVEL_PROVINCIA, "13", "PANAMA OESTE", NULL},
        {RP_LEVEL_DISTRITO, "1303", "Capira", "13"},
        {RP_LEVEL_DISTRITO, "1304", "Chame", "13"},
        {RP_LEVEL_DISTRITO, "1307", "La  Chorrera", "13"},
        {RP_LEVEL_DISTRITO, "1310", "Nuevo", "13"},
        {RP_LEVEL_CORREGIMIENTO, "130401", "Chame", "1304"},
        {RP_LEVEL_CORREGIMIENTO, "130402", "Bejuco", "1304"},
        {RP_LEVEL_CORREGIMIENTO, "130701", "Barrio Balboa", "1307"},
    };
    struct geo_diff d;
    struct rp_err err = {0};

    CHECK_OK(geo_diff_compute(before, 8, after, 8, &d, &err), &err);
    CHECK(change_of(&d, "13", "13") && change_of(&d, "13", "13")->kind == GEO_DIFF_KEPT);
    CHECK(change_of(&d, "1302", "1303") && change_of(&d, "1302", "1303")->kind == GEO_DIFF_RECODED);
    CHECK(change_of(&d, "1303", "1304") && change_of(&d, "1303", "1304")->kind == GEO_DIFF_RECODED);
    CHECK(change_of(&d, "1304", "1307") != NULL); /* spacing folded */
    CHECK(change_of(&d, "1306", NULL) && change_of(&d, "1306", NULL)->kind == GEO_DIFF_REMOVED);
    CHECK(change_of(&d, NULL, "1310") && change_of(&d, NULL, "1310")->kind == GEO_DIFF_ADDED);
    /* 130401 was Barrio Balboa and is now Chame: by name and mapped parent, not code */
    CHECK(change_of(&d, "130301", "130401") != NULL);
    CHECK(change_of(&d, "130302", "130402") != NULL);
    CHECK(change_of(&d, "130401", "130701") != NULL);
    CHECK_STR_EQ(geo_diff_new_code(&d, RP_LEVEL_DISTRITO, "1303"), "1304");
    CHECK(geo_diff_new_code(&d, RP_LEVEL_DISTRITO, "1306") == NULL);
    CHECK_INT_EQ(d.count[RP_LEVEL_DISTRITO][GEO_DIFF_RECODED], 3);
    CHECK_INT_EQ(d.count[RP_LEVEL_CORREGIMIENTO][GEO_DIFF_RECODED], 3);
    geo_diff_fini(&d);
}

static void test_renames_and_homonyms(void)
{
    static const struct geo_diff_area before[] = {
        {RP_LEVEL_PROVINCIA, "10", "Kuna Yala", NULL},
        {RP_LEVEL_DISTRITO, "0410", "Santa Clara", "04"},
        {RP_LEVEL_DISTRITO, "0411", "Santa Clara", "04"},
        {RP_LEVEL_DISTRITO, "1209", "SANTA CATALINA O CALOVEBORA", "12"},
    };
    static const struct geo_diff_area after[] = {
        {RP_LEVEL_PROVINCIA, "10", "Guna Yala", NULL},
        {RP_LEVEL_DISTRITO, "0411", "Santa Clara", "04"},
        {RP_LEVEL_DISTRITO, "0410", "Santa Clara", "04"},
        {RP_LEVEL_DISTRITO, "1209", "Santa Catalina o Calovébora", "12"},
    };
    struct geo_diff d;
    struct rp_err err = {0};

    CHECK_OK(geo_diff_compute(before, 4, after, 4, &d, &err), &err);
    CHECK(change_of(&d, "10", "10") && change_of(&d, "10", "10")->kind == GEO_DIFF_RENAMED);
    /* two of the same name under one parent: each keeps its code */
    CHECK(change_of(&d, "0410", "0410") && change_of(&d, "0410", "0410")->kind == GEO_DIFF_KEPT);
    CHECK(change_of(&d, "0411", "0411") && change_of(&d, "0411", "0411")->kind == GEO_DIFF_KEPT);
    CHECK(change_of(&d, "1209", "1209") && change_of(&d, "1209", "1209")->kind == GEO_DIFF_KEPT);
    CHECK(geo_diff_same_name("Ngäbe-Buglé", "NGABE-BUGLE"));
    CHECK(!geo_diff_same_name("Chame", "Capira"));
    geo_diff_fini(&d);
}

int main(void)
{
    RUN(test_swapped_codes_follow_names_and_children_follow_parents);
    RUN(test_renames_and_homonyms);
    return check_exit();
}
