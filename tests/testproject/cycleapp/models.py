"""Models that reference each other through NOT NULL fields: a chicken and an egg (foreign keys,
set after both exist on databases that check them at commit), a husband and a wife (one-to-ones:
no order can create them)."""

from django.db import models


class Chicken(models.Model):
    name = models.CharField(max_length=20)
    egg = models.ForeignKey("Egg", on_delete=models.CASCADE, related_name="+")


class Egg(models.Model):
    name = models.CharField(max_length=20)
    chicken = models.ForeignKey(Chicken, on_delete=models.CASCADE, related_name="+")


class Husband(models.Model):
    """A one-to-one cycle of NOT NULL fields: unique, so no placeholder can stand in."""

    name = models.CharField(max_length=20)
    wife = models.OneToOneField("Wife", on_delete=models.CASCADE, related_name="+")


class Wife(models.Model):
    name = models.CharField(max_length=20)
    husband = models.OneToOneField(Husband, on_delete=models.CASCADE, related_name="+")
