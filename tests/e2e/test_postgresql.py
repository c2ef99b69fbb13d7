"""README's PostgreSQL recipe (psql, json_populate_recordset), run as
written against a private PostgreSQL 15 cluster (receivers.PostgreSQL: its
own directory, reachable only through a Unix socket there, stopped by PID
when the class ends), reached through the PG* variables, so `psql -d mydb` in
the recipe needs no change but the database's name. Each test gets a new
database, as the recipe's reader has: the recipe must create its table.
"""

import datetime
import json
import unittest

import receivers
from receivers import RecipeCase, events, md5_sum


class PostgresRecipeTest(RecipeCase):
    @classmethod
    def setUpClass(cls):
        cls.server = receivers.PostgreSQL.start()
        cls.addClassCleanup(cls.server.stop)

    def setUp(self):
        super().setUp()
        # A fresh database per test, as the recipe's reader has.
        self.db = f"mydb_{self._testMethodName[-20:]}"
        self.server.psql(f"drop database if exists {self.db}")
        self.server.psql(f"create database {self.db}")
        self.env.update({k: v for k, v in self.server.client_env().items() if k.startswith("PG")})
        self.env.pop("PGDATABASE")

    def recipe(self) -> str:
        return receivers.replace_once(receivers.readme_recipe("postgresql"), "mydb", self.db)

    def test_readme_recipe(self):
        recs = events(2_500)
        self.write_events(recs)
        script = self.recipe()
        self.assert_ran(self.run_recipe(script), script)

        want = [json.loads(r) for r in recs]
        got = self.server.psql(
            "select count(*), count(level), sum(extract(epoch from time) * 1000)::bigint,"
            " sum(('x' || left(md5(msg), 8))::bit(32)::bigint),"
            " count(*) filter (where level = 'error') from events", database=self.db)
        epoch_ms = sum(round(datetime.datetime.fromisoformat(e["time"]).timestamp() * 1000) for e in want)
        self.assertEqual(got.split("|"), [
            str(len(want)), str(sum("level" in e for e in want)), str(epoch_ms),
            str(md5_sum(e["msg"] for e in want)), str(sum(e.get("level") == "error" for e in want))])

    def test_five_bad_records_are_dead_lettered_alone_and_the_rest_stored(self):
        # psql exits 3 on the SQL error (ON_ERROR_STOP); the recipe's
        # --bisect-on 3 splits the batch until each bad record is alone. 10,000
        # records rather than 100,000: each split starts psql (~70 ms).
        bad = [0, 1_234, 4_999, 5_000, 9_999]
        recs = self.write_events_with_bad(10_000, bad,
                                          lambda i: b'{"time":"not a time %d","level":"info","msg":"bad"}' % i)
        script = self.recipe()
        why = self.assert_dead_lettered_alone(self.run_recipe(script), recs, bad,
                                              b"invalid input syntax for type timestamp with time zone")
        self.assertEqual([(w["status"], "invalid input syntax" in w["reason"]) for w in why], [(3, True)] * 5)
        kept = [json.loads(rec)["msg"] for i, rec in enumerate(recs) if i not in bad]
        got = self.server.psql("select count(*), sum(('x' || left(md5(msg), 8))::bit(32)::bigint) from events",
                               database=self.db)
        self.assertEqual(got, f"{len(kept)}|{md5_sum(kept)}")

if __name__ == "__main__":
    unittest.main()
