"""Tortoise ORM models of the benchmark tables (Tortoise needs them in a module)."""

from tortoise import fields
from tortoise.models import Model


class Manager(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, default="")

    class Meta:
        table = "manager"


class Band(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, default="")
    manager = fields.ForeignKeyField(
        "models.Manager",
        null=True,
        on_delete=fields.SET_NULL,
        source_field="manager",
        related_name="bands",
    )
    popularity = fields.IntField(default=0)

    class Meta:
        table = "band"
