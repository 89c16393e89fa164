"""The composition layer: each module registers one group of `vacrec` commands.

Commands are the top of the data flow; they may import any package, and no
package imports them.
"""
