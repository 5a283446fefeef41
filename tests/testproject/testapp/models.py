"""Models that cover every feature dumpscript promises and every failure of the old tool."""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class TagManager(models.Manager["Tag"]):
    def get_by_natural_key(self, name: str) -> "Tag":
        return self.get(name=name)


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    objects = TagManager()

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.name,)


class Author(models.Model):
    name = models.CharField(max_length=100)
    email = models.EmailField(unique=True)
    # Nullable half of a two-model cycle (Book.author is NOT NULL).
    favorite_book = models.ForeignKey("Book", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    mentor = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="mentees")
    friends = models.ManyToManyField("self", blank=True)  # symmetrical
    follows = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="followers")


class Celebrity(Author):
    """A proxy: must be dumped once, as Author."""

    class Meta:
        proxy = True


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, blank=True)
    notes = GenericRelation("Note")


class BookProxy(Book):
    class Meta:
        proxy = True


class Publisher(models.Model):
    code = models.CharField(max_length=10, primary_key=True)
    name = models.CharField(max_length=100)


class Edition(models.Model):
    uid = models.UUIDField(primary_key=True, default=uuid.uuid4)
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT)
    # A foreign key to a unique field other than the primary key.
    editor = models.ForeignKey(Author, to_field="email", null=True, on_delete=models.SET_NULL, related_name="+")


class Club(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(Author, through="Membership", related_name="clubs")


class Membership(models.Model):
    club = models.ForeignKey(Club, on_delete=models.CASCADE)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    joined = models.DateField()
    role = models.CharField(max_length=20, choices=[("member", "Member"), ("chair", "Chair")])


class Category(models.Model):
    """A tree; children may have lower primary keys than their parents."""

    name = models.CharField(max_length=50, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")


class Node(models.Model):
    """A linked list and a root that points at itself (a cycle of one object)."""

    name = models.CharField(max_length=50, unique=True)
    previous = models.OneToOneField("self", null=True, on_delete=models.SET_NULL, related_name="next")
    root = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="+")


class Place(models.Model):
    name = models.CharField(max_length=50, unique=True)
    address = models.CharField(max_length=80)
    tags = models.ManyToManyField(Tag, blank=True, related_name="places")


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)


class ItalianRestaurant(Restaurant):
    has_wine = models.BooleanField(default=True)
    chef = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL, related_name="+")


class Bar(Place):
    """A second child of Place: one place row can be a restaurant and a bar."""

    serves_beer = models.BooleanField(default=True)


class Review(models.Model):
    place = models.ForeignKey(Place, on_delete=models.CASCADE)
    restaurant = models.ForeignKey(Restaurant, null=True, on_delete=models.CASCADE, related_name="+")
    stars = models.SmallIntegerField()
    text = models.TextField(unique=True)


class Timestamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Article(Timestamped):
    title = models.CharField(max_length=100, unique=True)
    published = models.DateField(auto_now_add=True, null=True)


class Note(models.Model):
    """A generic foreign key: must point at the recreated object, whatever its new pk."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    text = models.CharField(max_length=100, unique=True)


class Bookmark(models.Model):
    """A plain ForeignKey to ContentType (by natural key in the script) and a nullable GFK."""

    kind = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=50, unique=True)
    target_type = models.ForeignKey(ContentType, null=True, on_delete=models.CASCADE, related_name="+")
    target_id = models.CharField(max_length=50, null=True)
    target = GenericForeignKey("target_type", "target_id")


class Sample(models.Model):
    """Every built-in field type, filled with awkward values."""

    class Size(models.TextChoices):
        SMALL = "S", "Small"
        LARGE = "L", "Large"

    label = models.CharField(max_length=50, unique=True)
    text = models.TextField(blank=True)
    char = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(blank=True)
    email = models.EmailField(blank=True)
    url = models.URLField(blank=True)
    flag = models.BooleanField(default=False)
    maybe = models.BooleanField(null=True)
    small = models.SmallIntegerField(default=0)
    integer = models.IntegerField(default=0)
    big = models.BigIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    positive_big = models.PositiveBigIntegerField(default=0)
    decimal = models.DecimalField(max_digits=30, decimal_places=10, null=True)
    real = models.FloatField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    duration = models.DurationField(null=True)
    uid = models.UUIDField(null=True)
    blob = models.BinaryField(null=True)
    data = models.JSONField(null=True)
    ip = models.GenericIPAddressField(null=True)
    document = models.FileField(upload_to="docs/", blank=True)
    picture = models.ImageField(upload_to="pics/", blank=True)
    path = models.FilePathField(path="/tmp", blank=True)
    size = models.CharField(max_length=1, choices=Size.choices, default=Size.SMALL)
    nothing = models.CharField(max_length=10, null=True)


class VisibleManager(models.Manager["Post"]):
    def get_queryset(self) -> models.QuerySet["Post"]:
        return super().get_queryset().filter(hidden=False)


class Post(models.Model):
    """A default manager that hides rows: ``dumpscript --all`` reads them anyway."""

    title = models.CharField(max_length=50, unique=True)
    hidden = models.BooleanField(default=False)
    reply_to = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="+")

    objects = VisibleManager()
    all_objects = models.Manager()  # noqa: DJ012


class Contact(models.Model):
    """Personal data of every kind an anonymised dump replaces."""

    first_name = models.CharField(max_length=30)
    last_name = models.CharField(max_length=30)
    phone = models.CharField(max_length=30, blank=True)
    street = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=50, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    notes = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=[("lead", "Lead"), ("client", "Client")], default="lead")
