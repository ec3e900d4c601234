from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``{{ labels|get:code }}``: the plain words for a code (the code itself when none)."""
    return mapping.get(key, key)
