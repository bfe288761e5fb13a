"""Members' and interruptions' references checked once per statement on PostgreSQL

A typhoon adds a million members and a million interruptions in one transaction. PostgreSQL
checks a foreign key row by row (a query per row for the customer and another for the
outage): 10 of the 14 seconds of inserting a million members went to those checks. Here the
two tables' four foreign keys become statement triggers that check every added row in one
query over the statement's new rows (3.5 s for the same million members, checks included).

What the foreign keys guaranteed still holds:
- a row naming a missing outage or customer is refused with SQLSTATE 23503
  (foreign_key_violation), like a foreign key; the outages named are locked FOR KEY SHARE as a
  foreign key locks them, so an outage deleted meanwhile waits for the insert to finish;
- deleting an outage deletes its members and interruptions (ON DELETE CASCADE before);
- deleting a customer who is a member or has interruptions is refused (NO ACTION before);
- the referring columns and the referred ids are never changed in place (nothing in the
  product does; a foreign key would have checked the new values, these triggers refuse).
Customers are not locked per row: the product never deletes a customer, and locking a
million customer rows is what made the foreign key slow (each lock is written to the WAL).
TRUNCATE fires no row or delete triggers: a foreign key refused `TRUNCATE customers` while an
outage named them, these checks do not (the product truncates neither table).

SQLite keeps its foreign keys: it checks them through the same index probes at a fraction of
the cost, and nothing there is at this scale.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

REFERRING = ("outage_customers", "interruptions")
# (table, column, referred table, ON DELETE) as created by 0001
FOREIGN_KEYS = tuple((table, column, referred, "CASCADE" if referred == "outages" else None)
                     for table in REFERRING
                     for column, referred in (("outage_id", "outages"),
                                              ("customer_id", "customers")))

CHECK_ADDED_ROWS = """
CREATE FUNCTION outage_rows_refer_to_existing_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    PERFORM 1 FROM outages WHERE id IN (SELECT outage_id FROM added) FOR KEY SHARE;
    SELECT a.outage_id INTO missing FROM (SELECT DISTINCT outage_id FROM added) a
        WHERE NOT EXISTS (SELECT 1 FROM outages o WHERE o.id = a.outage_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert on table "%" names outage % that does not exist',
            TG_TABLE_NAME, missing
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (outage_id)=(%s) is not present in table "outages".',
                                  missing);
    END IF;
    SELECT a.customer_id INTO missing FROM added a
        WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = a.customer_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert on table "%" names customer % that does not exist',
            TG_TABLE_NAME, missing
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (customer_id)=(%s) is not present in table "customers".',
                                  missing);
    END IF;
    RETURN NULL;
END $$
"""

DELETE_WITH_OUTAGE = """
CREATE FUNCTION outage_rows_go_with_their_outage() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM outage_customers WHERE outage_id IN (SELECT id FROM gone);
    DELETE FROM interruptions WHERE outage_id IN (SELECT id FROM gone);
    RETURN NULL;
END $$
"""

KEEP_REFERRED_CUSTOMERS = """
CREATE FUNCTION customers_in_outages_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kept bigint;
BEGIN
    SELECT id INTO kept FROM gone g
        WHERE EXISTS (SELECT 1 FROM outage_customers m WHERE m.customer_id = g.id)
           OR EXISTS (SELECT 1 FROM interruptions i WHERE i.customer_id = g.id)
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'customer % is in an outage and cannot be deleted', kept
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from an outage''s '
                                  'members or interruptions.', kept);
    END IF;
    RETURN NULL;
END $$
"""

REFUSE_NEW_KEY = """
CREATE FUNCTION outage_references_stay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table "%": % of a row cannot change', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'foreign_key_violation';
END $$
"""

TRIGGERS = [
    *(f"""CREATE TRIGGER {table}_refer_to_existing_rows AFTER INSERT ON {table}
          REFERENCING NEW TABLE AS added FOR EACH STATEMENT
          EXECUTE FUNCTION outage_rows_refer_to_existing_rows()""" for table in REFERRING),
    *(f"""CREATE TRIGGER {table}_references_stay BEFORE UPDATE OF outage_id, customer_id
          ON {table} FOR EACH ROW
          WHEN (OLD.outage_id <> NEW.outage_id OR OLD.customer_id <> NEW.customer_id)
          EXECUTE FUNCTION outage_references_stay('the outage or customer')"""
      for table in REFERRING),
    """CREATE TRIGGER outages_take_their_rows AFTER DELETE ON outages
       REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
       EXECUTE FUNCTION outage_rows_go_with_their_outage()""",
    """CREATE TRIGGER customers_in_outages_stay AFTER DELETE ON customers
       REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
       EXECUTE FUNCTION customers_in_outages_stay()""",
    *(f"""CREATE TRIGGER {table}_id_stays BEFORE UPDATE OF id ON {table} FOR EACH ROW
          WHEN (OLD.id <> NEW.id) EXECUTE FUNCTION outage_references_stay('the id')"""
      for table in ("outages", "customers")),
]
FUNCTIONS = ("outage_rows_refer_to_existing_rows", "outage_rows_go_with_their_outage",
             "customers_in_outages_stay", "outage_references_stay")
TRIGGERED = (*((f"{t}_refer_to_existing_rows", t) for t in REFERRING),
             *((f"{t}_references_stay", t) for t in REFERRING),
             ("outages_take_their_rows", "outages"), ("customers_in_outages_stay", "customers"),
             *((f"{t}_id_stays", t) for t in ("outages", "customers")))


def _constraint(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"  # the naming convention in outages/models/base.py


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, referred, _ in FOREIGN_KEYS:
        op.drop_constraint(_constraint(table, column, referred), table, type_="foreignkey")
    for statement in (CHECK_ADDED_ROWS, DELETE_WITH_OUTAGE, KEEP_REFERRED_CUSTOMERS,
                      REFUSE_NEW_KEY, *TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger, table in TRIGGERED:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}()")
    for table, column, referred, ondelete in FOREIGN_KEYS:
        op.create_foreign_key(_constraint(table, column, referred), table, referred,
                              [column], ["id"], ondelete=ondelete)
