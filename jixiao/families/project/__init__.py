"""The national project form (项目支出绩效自评表): one form per project and year, one or several per workbook.

tables.py holds its raw tables and identity; the form's labels, its reading and its
checks sit beside it in this package.
"""
