"""Two models that reference each other through NOT NULL fields: no order can create them."""

from django.db import models


class Chicken(models.Model):
    name = models.CharField(max_length=20)
    egg = models.ForeignKey("Egg", on_delete=models.CASCADE, related_name="+")


class Egg(models.Model):
    name = models.CharField(max_length=20)
    chicken = models.ForeignKey(Chicken, on_delete=models.CASCADE, related_name="+")
