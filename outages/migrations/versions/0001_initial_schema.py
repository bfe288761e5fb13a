"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 21:40:04.233602
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import notifier.sqltypes

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', notifier.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('feeder', sa.String(length=100), nullable=True),
    sa.Column('language', sa.String(length=2), server_default='vi', nullable=False),
    sa.Column('sms_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('email_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('phone_invalid', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('connected_on', sa.Date(), nullable=True),
    sa.Column('disconnected_on', sa.Date(), nullable=True),
    sa.Column('created_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.Column('updated_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('code', name=op.f('uq_customers_code'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_district'), ['district'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_feeder'), ['feeder'], unique=False)
        batch_op.create_index('ix_customers_lon_lat', ['lon', 'lat'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_region'), ['region'], unique=False)

    op.create_table('outages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('area_name', sa.String(length=200), nullable=True),
    sa.Column('area_geojson', sa.Text(), nullable=True),
    sa.Column('feeders', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('work', sa.Text(), nullable=True),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('planned_start', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('planned_end', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('actual_start', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('actual_end', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('etr', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('urgent_reason', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.Column('updated_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outages')),
    sa.UniqueConstraint('external_id', name=op.f('uq_outages_external_id'))
    )
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.create_index('ix_outages_kind_status', ['kind', 'status'], unique=False)
        batch_op.create_index('ix_outages_planned_start', ['planned_start'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.Column('disabled_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.Column('revoked_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('fault_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outage_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('reports', sa.Integer(), server_default='1', nullable=False),
    sa.Column('first_at', notifier.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_at', notifier.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_fault_reports_customer_id_customers')),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_fault_reports_outage_id_outages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_reports')),
    sa.UniqueConstraint('outage_id', 'customer_id', name=op.f('uq_fault_reports_outage_id'))
    )
    with op.batch_alter_table('fault_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fault_reports_outage_id'), ['outage_id'], unique=False)

    op.create_table('interruptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('outage_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('planned', sa.Boolean(), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('start_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('end_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_interruptions_customer_id_customers')),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_interruptions_outage_id_outages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interruptions'))
    )
    with op.batch_alter_table('interruptions', schema=None) as batch_op:
        batch_op.create_index('ix_interruptions_customer_start', ['customer_id', 'start_at'], unique=False)
        batch_op.create_index('ix_interruptions_outage_customer', ['outage_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_interruptions_start', ['start_at'], unique=False)

    op.create_table('outage_customers',
    sa.Column('outage_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('added_revision', sa.Integer(), nullable=False),
    sa.Column('dropped_revision', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_outage_customers_customer_id_customers')),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_outage_customers_outage_id_outages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outage_id', 'customer_id', name=op.f('pk_outage_customers'))
    )
    with op.batch_alter_table('outage_customers', schema=None) as batch_op:
        batch_op.create_index('ix_outage_customers_customer', ['customer_id'], unique=False)

    op.create_table('outage_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outage_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('at', notifier.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('planned_start', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('planned_end', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('etr', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('area_geojson', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['outage_id'], ['outages.id'], name=op.f('fk_outage_revisions_outage_id_outages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outage_revisions')),
    sa.UniqueConstraint('outage_id', 'revision', name=op.f('uq_outage_revisions_outage_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('outage_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('due_at', notifier.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('claimed_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('sent_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('delivered_at', notifier.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error_code', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('encoding', sa.String(length=8), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('cost', sa.Float(), nullable=True),
    sa.Column('created_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.Column('updated_at', notifier.sqltypes.UTCDateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_customer_channel_due', ['customer_id', 'channel', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_outage_id'), ['outage_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_outbox_status_due', ['status', 'due_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_due')
        batch_op.drop_index(batch_op.f('ix_outbox_provider_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_outage_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_customer_id'))
        batch_op.drop_index('ix_outbox_customer_channel_due')

    op.drop_table('outbox')
    op.drop_table('outage_revisions')
    with op.batch_alter_table('outage_customers', schema=None) as batch_op:
        batch_op.drop_index('ix_outage_customers_customer')

    op.drop_table('outage_customers')
    with op.batch_alter_table('interruptions', schema=None) as batch_op:
        batch_op.drop_index('ix_interruptions_start')
        batch_op.drop_index('ix_interruptions_outage_customer')
        batch_op.drop_index('ix_interruptions_customer_start')

    op.drop_table('interruptions')
    with op.batch_alter_table('fault_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fault_reports_outage_id'))

    op.drop_table('fault_reports')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.drop_index('ix_outages_planned_start')
        batch_op.drop_index('ix_outages_kind_status')

    op.drop_table('outages')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_region'))
        batch_op.drop_index(batch_op.f('ix_customers_phone'))
        batch_op.drop_index('ix_customers_lon_lat')
        batch_op.drop_index(batch_op.f('ix_customers_feeder'))
        batch_op.drop_index(batch_op.f('ix_customers_district'))

    op.drop_table('customers')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')

